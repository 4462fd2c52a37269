using System.Buffers.Binary;

namespace ReadHistory.Benchmarks.Fuzzing;

/// <summary>
/// Deterministic byte mutations for the fuzzers (same seed, same inputs): bit flips, byte sets, inserts, deletes,
/// truncation, duplicated ranges, little- and big-endian length fields set to edge values, varints made huge or
/// over-long, and splices of two inputs. One to four stacked per input, as AFL's havoc stage does.
/// </summary>
internal sealed class Mutator(int seed)
{
    // Values a length or count field is most likely to mishandle.
    private static readonly long[] Edges = [0, 1, 2, 3, 4, 7, 8, 15, 16, 19, 23, 63, 64, 127, 128, 255, 256, 1023, 4095, 4096, 32767, 32768, 65535, 65536,
        (1L << 24) - 1, 1L << 24, int.MaxValue - 1, int.MaxValue, 1L << 31, uint.MaxValue, long.MaxValue, -1, -2];

    /// <summary>The random source, for callers that make structure-aware choices of their own.</summary>
    public Random Random { get; } = new(seed);

    /// <summary>A mutated copy of <paramref name="input"/>; <paramref name="other"/> is the partner of a splice.</summary>
    public byte[] Mutate(ReadOnlySpan<byte> input, ReadOnlySpan<byte> other)
    {
        var bytes = new List<byte>(input.Length + 16);
        bytes.AddRange(input);
        var count = 1 + Random.Next(4);
        for (var i = 0; i < count; i++)
        {
            MutateOnce(bytes, other);
        }

        return [.. bytes];
    }

    /// <summary>Flips, sets or tampers with bytes in place (no length change), from <paramref name="start"/> on.</summary>
    public void MutateInPlace(Span<byte> bytes, int start)
    {
        if (bytes.Length <= start)
        {
            return;
        }

        var at = start + Random.Next(bytes.Length - start);
        switch (Random.Next(4))
        {
            case 0:
                bytes[at] ^= (byte)(1 << Random.Next(8));
                break;
            case 1:
                bytes[at] = (byte)Random.Next(256);
                break;
            case 2 when bytes.Length - at >= 4:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes[at..], (uint)Edge());
                break;
            case 3 when bytes.Length - at >= 8:
                BinaryPrimitives.WriteInt64LittleEndian(bytes[at..], Edge());
                break;
            default:
                bytes[at] = (byte)Edge();
                break;
        }
    }

    private long Edge() => Edges[Random.Next(Edges.Length)] + (Random.Next(4) == 0 ? Random.Next(-2, 3) : 0);

    private void MutateOnce(List<byte> bytes, ReadOnlySpan<byte> other)
    {
        var length = bytes.Count;
        var at = length == 0 ? 0 : Random.Next(length);
        switch (Random.Next(12))
        {
            case 0 when length > 0:
                bytes[at] ^= (byte)(1 << Random.Next(8));
                break;
            case 1 when length > 0:
                bytes[at] = (byte)Random.Next(256);
                break;
            case 2:
                // Insert a few random bytes.
                var insert = new byte[1 + Random.Next(8)];
                Random.NextBytes(insert);
                bytes.InsertRange(at, insert);
                break;
            case 3 when length > 0:
                bytes.RemoveRange(at, Math.Min(1 + Random.Next(16), length - at));
                break;
            case 4 when length > 0:
                // Truncate.
                bytes.RemoveRange(at, length - at);
                break;
            case 5 when length > 0:
                // Duplicate a range.
                var take = Math.Min(1 + Random.Next(64), length - at);
                bytes.InsertRange(Random.Next(length + 1), bytes.GetRange(at, take));
                break;
            case 6 when length >= 2:
                SetInteger(bytes, at, 2);
                break;
            case 7 when length >= 4:
                SetInteger(bytes, at, 4);
                break;
            case 8 when length >= 8:
                SetInteger(bytes, at, 8);
                break;
            case 9 when length > 0:
                TamperVarint(bytes, at);
                break;
            case 10 when !other.IsEmpty:
                // Splice: this input's head, the other's tail.
                var from = Random.Next(other.Length);
                bytes.RemoveRange(at, length - at);
                bytes.AddRange(other[from..]);
                break;
            default:
                if (length > 0)
                {
                    bytes[at] = (byte)Edge();
                }

                break;
        }
    }

    private void SetInteger(List<byte> bytes, int at, int width)
    {
        at = Math.Min(at, bytes.Count - width);
        Span<byte> value = stackalloc byte[8];
        var edge = Edge();
        if (Random.Next(2) == 0)
        {
            BinaryPrimitives.WriteInt64LittleEndian(value, edge);
        }
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(value, edge << ((8 - width) * 8));
        }

        for (var i = 0; i < width; i++)
        {
            bytes[at + i] = value[i];
        }
    }

    // Replaces the varint that starts at (or after) at with a huge one, an over-long (11-byte) one, or an endless run
    // of continuation bytes.
    private void TamperVarint(List<byte> bytes, int at)
    {
        var end = at;
        while (end < bytes.Count && end - at < 10 && (bytes[end] & 0x80) != 0)
        {
            end++;
        }

        bytes.RemoveRange(at, Math.Min(end + 1, bytes.Count) - at);
        byte[] replacement = Random.Next(4) switch
        {
            0 => [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], // 2^64 - 1
            1 => [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // 11 bytes
            2 => [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], // 2^32 - 1
            _ => Enumerable.Repeat((byte)0xFF, 1 + Random.Next(12)).ToArray(), // no end
        };
        bytes.InsertRange(at, replacement);
    }
}
