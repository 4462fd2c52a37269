using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

[Collection(MariaDbFixture.Collection)]
public sealed class TypeRoundTripTests(MariaDbFixture fixture)
{
    private const string CreateTable = """
        CREATE TABLE types (
          id INT PRIMARY KEY,
          i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u16 SMALLINT UNSIGNED, i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED,
          i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED,
          dec1 DECIMAL(20,6), f FLOAT, d DOUBLE,
          vc VARCHAR(200), txt TEXT, bl BLOB, vb VARBINARY(20),
          dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6),
          b TINYINT(1), n INT NULL, e ENUM('red','green')
        ) CHARACTER SET utf8mb4
        """;

    private const string Columns = "id, i8, u8, i16, u16, i24, u24, i32, u32, i64, u64, dec1, f, d, vc, txt, bl, vb, dt, dtm, ts, tm, b, n, e";

    private const string Insert = "INSERT INTO types (" + Columns + ") VALUES (@id, @i8, @u8, @i16, @u16, @i24, @u24, @i32, @u32, @i64, @u64, @dec1, @f, @d, @vc, @txt, @bl, @vb, @dt, @dtm, @ts, @tm, @b, @n, @e)";

    private static readonly string Tricky = "héllo 'single' \"double\" back\\slash \n newline \r cr \0 nul \x1a ctrl-z; -- comment? @notparam 😀 `tick`";
    private static readonly byte[] AllBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

    private MariaDbServer Server => fixture.Server;

    public enum Colour
    {
        Red = 1,
        Green = 2,
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Every_type_round_trips(bool preparedInsert, bool preparedSelect)
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await connection.RunAsync(CreateTable);

        await using (var insert = new MySqlCommand(Insert, connection))
        {
            AddValues(insert, 1, extremesLow: true);
            if (preparedInsert)
            {
                await insert.PrepareAsync();
            }

            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            insert.Parameters.Clear();
            AddValues(insert, 2, extremesLow: false);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        // Checked independently of our reader with the mariadb CLI.
        var cli = await Server.SqlAsync("SELECT HEX(vc), HEX(bl), i64, u64, dec1, dtm, tm FROM types WHERE id = 1", connection.Database);
        var fields = cli.TrimEnd('\n').Split('\t');
        Assert.Equal(Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(Tricky)), fields[0]);
        Assert.Equal(Convert.ToHexString(AllBytes), fields[1]);
        Assert.Equal(long.MinValue.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[2]);
        Assert.Equal(ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[3]);
        Assert.Equal("-12345678901234.123456", fields[4]);
        Assert.Equal("2024-02-29 13:14:15.123456", fields[5]);
        Assert.Equal("-26:03:04.123456", fields[6]);

        await using var select = new MySqlCommand($"SELECT {Columns} FROM types WHERE id = @id", connection);
        select.Parameters.AddWithValue("@id", 1);
        if (preparedSelect)
        {
            await select.PrepareAsync();
        }

        await using (var reader = await select.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal((sbyte)-128, reader.GetValue(1));
            Assert.Equal((byte)0, reader.GetValue(2));
            Assert.Equal((short)-32768, reader.GetValue(3));
            Assert.Equal((ushort)0, reader.GetValue(4));
            Assert.Equal(-8388608, reader.GetValue(5));
            Assert.Equal(0u, reader.GetValue(6));
            Assert.Equal(int.MinValue, reader.GetValue(7));
            Assert.Equal(0u, reader.GetValue(8));
            Assert.Equal(long.MinValue, reader.GetValue(9));
            Assert.Equal(long.MinValue, reader.GetInt64(9));
            Assert.Equal(ulong.MaxValue, reader.GetValue(10));
            Assert.Equal(ulong.MaxValue, reader.GetUInt64(10));
            Assert.Equal(ulong.MaxValue, reader.GetFieldValue<ulong>(10));
            Assert.Equal(-12345678901234.123456m, reader.GetDecimal(11));
            Assert.Equal(-12345678901234.123456m, reader.GetValue(11));
            Assert.Equal(-1.5f, reader.GetFloat(12));
            Assert.Equal(-1.5f, reader.GetValue(12));
            Assert.Equal(-Math.PI, reader.GetDouble(13));
            Assert.Equal(Tricky, reader.GetString(14));
            Assert.Equal(new string('x', 70000 / 10) + "ü", reader.GetFieldValue<string>(15));
            Assert.Equal(AllBytes, (byte[])reader.GetValue(16));
            Assert.Equal(AllBytes, reader.GetFieldValue<byte[]>(16));
            var buffer = new byte[10];
            Assert.Equal(10, reader.GetBytes(16, 100, buffer, 0, 10));
            Assert.Equal(AllBytes[100..110], buffer);
            using (var stream = reader.GetStream(16))
            {
                Assert.Equal(256, stream.Length);
            }

            Assert.Equal(new byte[] { 0, 1, 2 }, reader.GetValue(17));
            Assert.Equal(new DateTime(2024, 2, 29), reader.GetDateTime(18));
            Assert.Equal(new DateOnly(2024, 2, 29), reader.GetFieldValue<DateOnly>(18));
            Assert.Equal(new DateTime(2024, 2, 29, 13, 14, 15).AddTicks(1234560), reader.GetValue(19));
            Assert.Equal(new DateTime(2001, 1, 1, 0, 0, 1).AddTicks(5000000), reader.GetDateTime(20));
            Assert.Equal(-new TimeSpan(1, 2, 3, 4).Add(TimeSpan.FromTicks(1234560)), reader.GetValue(21));
            Assert.Equal(false, reader.GetValue(22));
            Assert.False(reader.GetBoolean(22));
            Assert.True(reader.IsDBNull(23));
            Assert.Equal(DBNull.Value, reader.GetValue(23));
            Assert.Null(reader.GetFieldValue<int?>(23));
            Assert.Equal("red", reader.GetValue(24));
            Assert.Equal(Colour.Red, reader.GetFieldValue<Colour>(24));
            Assert.False(await reader.ReadAsync());
        }

        select.Parameters["id"].Value = 2;
        await using (var reader = await select.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal((sbyte)127, reader.GetValue(1));
            Assert.Equal((byte)255, reader.GetValue(2));
            Assert.Equal((short)32767, reader.GetValue(3));
            Assert.Equal((ushort)65535, reader.GetValue(4));
            Assert.Equal(8388607, reader.GetValue(5));
            Assert.Equal(16777215u, reader.GetValue(6));
            Assert.Equal(int.MaxValue, reader.GetValue(7));
            Assert.Equal(uint.MaxValue, reader.GetValue(8));
            Assert.Equal(long.MaxValue, reader.GetValue(9));
            Assert.Equal(0UL, reader.GetValue(10));
            Assert.Equal(0.000001m, reader.GetDecimal(11));
            Assert.Equal(3.25e10f, reader.GetFloat(12));
            Assert.Equal(1e-300, reader.GetDouble(13));
            Assert.Equal(string.Empty, reader.GetString(14));
            Assert.Equal(true, reader.GetValue(22));
            Assert.Equal(7, reader.GetInt32(23));
            Assert.Equal("green", reader.GetString(24));
            Assert.Equal(new TimeSpan(0, 838, 59, 59), reader.GetTimeSpan(21));
            Assert.Equal(new DateTime(1000, 1, 1), reader.GetDateTime(18));
            Assert.Equal(new DateTime(9999, 12, 31, 23, 59, 59).AddTicks(9999990), reader.GetDateTime(19));
        }
    }

    [Fact]
    public async Task Null_parameters_and_literal_types_in_the_text_protocol()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await using var command = new MySqlCommand("SELECT @n IS NULL, @t, @f, @g, @c, @e, @ul, @ts, @to, @u", connection);
        command.Parameters.AddWithValue("n", null);
        command.Parameters.AddWithValue("t", true);
        command.Parameters.AddWithValue("f", false);
        var guid = Guid.NewGuid();
        command.Parameters.AddWithValue("g", guid);
        command.Parameters.AddWithValue("c", 'q');
        command.Parameters.AddWithValue("e", Colour.Green);
        command.Parameters.AddWithValue("ul", ulong.MaxValue);
        command.Parameters.AddWithValue("ts", TimeSpan.FromMinutes(-90));
        command.Parameters.AddWithValue("to", new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)));
        command.Parameters.AddWithValue("u", "@t is text, not a parameter");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1, reader.GetInt32(0));
        Assert.Equal(1, reader.GetInt32(1));
        Assert.Equal(0, reader.GetInt32(2));
        Assert.Equal(guid.ToString(), reader.GetString(3));
        Assert.Equal("q", reader.GetString(4));
        Assert.Equal(2, reader.GetInt32(5));
        Assert.Equal(ulong.MaxValue, reader.GetUInt64(6));
        Assert.Equal("-01:30:00.000000", reader.GetString(7));
        Assert.Equal("2020-01-02 01:04:05", reader.GetString(8));
        Assert.Equal("@t is text, not a parameter", reader.GetString(9));
    }

    private static void AddValues(MySqlCommand command, int id, bool extremesLow)
    {
        var p = command.Parameters;
        p.AddWithValue("@id", id);
        if (extremesLow)
        {
            p.AddWithValue("@i8", (sbyte)-128);
            p.AddWithValue("@u8", (byte)0);
            p.AddWithValue("@i16", short.MinValue);
            p.AddWithValue("@u16", (ushort)0);
            p.AddWithValue("@i24", -8388608);
            p.AddWithValue("@u24", 0u);
            p.AddWithValue("@i32", int.MinValue);
            p.AddWithValue("@u32", 0u);
            p.AddWithValue("@i64", long.MinValue);
            p.AddWithValue("@u64", ulong.MaxValue);
            p.AddWithValue("@dec1", -12345678901234.123456m);
            p.AddWithValue("@f", -1.5f);
            p.AddWithValue("@d", -Math.PI);
            p.AddWithValue("@vc", Tricky);
            p.AddWithValue("@txt", new string('x', 7000) + "ü");
            p.AddWithValue("@bl", AllBytes);
            p.AddWithValue("@vb", new ReadOnlyMemory<byte>([0, 1, 2]));
            p.AddWithValue("@dt", new DateOnly(2024, 2, 29));
            p.AddWithValue("@dtm", new DateTime(2024, 2, 29, 13, 14, 15).AddTicks(1234560));
            p.AddWithValue("@ts", new DateTime(2001, 1, 1, 0, 0, 1).AddTicks(5000000));
            p.AddWithValue("@tm", -new TimeSpan(1, 2, 3, 4).Add(TimeSpan.FromTicks(1234560)));
            p.AddWithValue("@b", false);
            p.AddWithValue("@n", DBNull.Value);
            p.AddWithValue("@e", "red");
        }
        else
        {
            p.AddWithValue("@i8", (sbyte)127);
            p.AddWithValue("@u8", (byte)255);
            p.AddWithValue("@i16", short.MaxValue);
            p.AddWithValue("@u16", ushort.MaxValue);
            p.AddWithValue("@i24", 8388607);
            p.AddWithValue("@u24", 16777215u);
            p.AddWithValue("@i32", int.MaxValue);
            p.AddWithValue("@u32", uint.MaxValue);
            p.AddWithValue("@i64", long.MaxValue);
            p.AddWithValue("@u64", 0UL);
            p.AddWithValue("@dec1", 0.000001m);
            p.AddWithValue("@f", 3.25e10f);
            p.AddWithValue("@d", 1e-300);
            p.AddWithValue("@vc", string.Empty);
            p.AddWithValue("@txt", "t");
            p.AddWithValue("@bl", Array.Empty<byte>());
            p.AddWithValue("@vb", new byte[] { 9 });
            p.AddWithValue("@dt", new DateTime(1000, 1, 1));
            p.AddWithValue("@dtm", new DateTime(9999, 12, 31, 23, 59, 59).AddTicks(9999990));
            p.AddWithValue("@ts", null);
            p.AddWithValue("@tm", new TimeSpan(0, 838, 59, 59));
            p.AddWithValue("@b", true);
            p.AddWithValue("@n", 7L);
            p.AddWithValue("@e", Colour.Green);
        }
    }
}
