using System.Text;
using ReadHistory.Core.Hashing;
using Xunit;

namespace ReadHistory.Core.Tests.Hashing;

public sealed class Crc32CTests
{
    public static TheoryData<byte[], uint> Vectors => new()
    {
        { [], 0x00000000u },
        { Encoding.ASCII.GetBytes("123456789"), 0xE3069283u }, // the CRC catalogue's check value
        { new byte[32], 0x8A9136AAu }, // RFC 3720 B.4: 32 bytes of zeros
        { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43u }, // 32 bytes of ones
        { Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), 0x46DD794Eu }, // incrementing
        { Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(), 0x113FDB5Cu }, // decrementing
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Matches_the_published_test_vectors(byte[] data, uint expected)
    {
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.AppendScalar(0, data));
    }

    [Fact]
    public void Appending_in_pieces_equals_one_pass_on_both_paths()
    {
        var data = new byte[1000];
        new Random(4).NextBytes(data);
        var whole = Crc32C.Compute(data);
        for (var split = 0; split <= data.Length; split += 37)
        {
            Assert.Equal(whole, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
            Assert.Equal(whole, Crc32C.AppendScalar(Crc32C.AppendScalar(0, data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }
}
