using System.Buffers.Binary;
using System.Text;
using ReadHistory.MySql.Replication.Client;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.MySql.Replication.Protocol;
using ReadHistory.MySql.Replication.Rows;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>Unit tests on bytes: CRC32, command encodings, GTIDs, hand-built events.</summary>
public sealed class ProtocolTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("abc", 0x352441C2u)]
    [InlineData("123456789", 0xCBF43926u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Crc32_matches_the_standard_test_vectors(string text, uint expected) =>
        Assert.Equal(expected, System.IO.Hashing.Crc32.HashToUInt32(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Register_slave_is_encoded_field_by_field()
    {
        var bytes = ReplicationCommands.RegisterSlave(0x01020304, "host", "rh", "pw", 3306);
        byte[] expected = [0x15, 4, 3, 2, 1, 4, (byte)'h', (byte)'o', (byte)'s', (byte)'t', 2, (byte)'r', (byte)'h', 2, (byte)'p', (byte)'w', 0xEA, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Binlog_dump_is_position_flags_server_id_and_file_name()
    {
        var bytes = ReplicationCommands.BinlogDump(4, ReplicationCommands.DumpNonBlock, 0x0A0B0C0D, "binlog.000001");
        byte[] expected = [0x12, 4, 0, 0, 0, 1, 0, 0x0D, 0x0C, 0x0B, 0x0A, .. "binlog.000001"u8.ToArray()];
        Assert.Equal(expected, bytes);
        byte[] gtidMode = [0x12, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0];
        Assert.Equal(gtidMode, ReplicationCommands.BinlogDump(4, 0, 1, string.Empty));
    }

    [Fact]
    public void Binlog_dump_gtid_carries_the_encoded_gtid_set()
    {
        var set = MySqlGtidSet.Parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11, 00000000-0000-0000-0000-000000000001:7");
        Assert.Equal("00000000-0000-0000-0000-000000000001:7,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11", set.ToString());
        var bytes = ReplicationCommands.BinlogDumpGtid(0, 9, string.Empty, 4, set);
        var span = bytes.AsSpan();
        Assert.Equal(0x1E, span[0]);
        Assert.Equal(ReplicationCommands.DumpThroughGtid, BinaryPrimitives.ReadUInt16LittleEndian(span[1..]));
        Assert.Equal(9u, BinaryPrimitives.ReadUInt32LittleEndian(span[3..]));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(span[7..])); // empty file name
        Assert.Equal(4ul, BinaryPrimitives.ReadUInt64LittleEndian(span[11..]));
        var dataSize = BinaryPrimitives.ReadUInt32LittleEndian(span[19..]);
        var data = span[23..];
        Assert.Equal((int)dataSize, data.Length);
        Assert.Equal(8 + (16 + 8 + 16) + (16 + 8 + 32), data.Length);
        Assert.Equal(2ul, BinaryPrimitives.ReadUInt64LittleEndian(data));
        Assert.Equal(Convert.FromHexString("00000000000000000000000000000001"), data.Slice(8, 16).ToArray());
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(data[24..]));
        Assert.Equal(7ul, BinaryPrimitives.ReadUInt64LittleEndian(data[32..]));
        Assert.Equal(8ul, BinaryPrimitives.ReadUInt64LittleEndian(data[40..])); // end is exclusive
        Assert.Equal(Convert.FromHexString("3E11FA4771CA11E19E33C80AA9429562"), data.Slice(48, 16).ToArray());
        Assert.Equal(2ul, BinaryPrimitives.ReadUInt64LittleEndian(data[64..]));
        ulong[] intervals = [1, 6, 11, 12];
        ulong[] encoded = [BinaryPrimitives.ReadUInt64LittleEndian(data[72..]), BinaryPrimitives.ReadUInt64LittleEndian(data[80..]),
            BinaryPrimitives.ReadUInt64LittleEndian(data[88..]), BinaryPrimitives.ReadUInt64LittleEndian(data[96..])];
        Assert.Equal(intervals, encoded);
    }

    [Fact]
    public void Mariadb_gtid_positions_parse_update_and_print()
    {
        var position = MariaDbGtidPosition.Parse(" 1-2-7, 0-1-42 ");
        Assert.Equal("0-1-42,1-2-7", position.ToString());
        Assert.Equal(new MariaDbGtid(1, 2, 7), position[1]);
        var next = position.With(new MariaDbGtid(1, 3, 8)).With(new MariaDbGtid(5, 1, 1));
        Assert.Equal("0-1-42,1-3-8,5-1-1", next.ToString());
        Assert.Equal("0-1-42,1-2-7", position.ToString());
        Assert.True(MariaDbGtidPosition.Parse(string.Empty).IsEmpty);
        Assert.Equal(position, MariaDbGtidPosition.Parse("0-1-42,1-2-7"));
        Assert.Throws<FormatException>(() => MariaDbGtidPosition.Parse("0-1-2,0-1-3"));
        Assert.Throws<FormatException>(() => MariaDbGtid.Parse("0-1"));
        Assert.Throws<FormatException>(() => MariaDbGtid.Parse("a-1-2"));
        Assert.Throws<FormatException>(() => MySqlGtidSet.Parse("not-a-uuid:1"));
    }

    [Fact]
    public void Mysql_gtid_event_gives_uuid_and_number()
    {
        var body = new List<byte> { 1 };
        body.AddRange(Convert.FromHexString("3E11FA4771CA11E19E33C80AA9429562"));
        body.AddRange(BitConverter.GetBytes(23ul));
        body.Add(2);
        body.AddRange(BitConverter.GetBytes(5L));
        body.AddRange(BitConverter.GetBytes(6L));
        var decoder = new BinlogEventDecoder();
        decoder.Decode(EventBuilder.FormatDescription());
        var gtid = Assert.IsType<MySqlGtidEvent>(decoder.Decode(EventBuilder.Event(BinlogEventType.MySqlGtid, [.. body])));
        Assert.Equal("3e11fa47-71ca-11e1-9e33-c80aa9429562:23", gtid.Gtid);
        Assert.Equal((5L, 6L), (gtid.LastCommitted, gtid.SequenceNumber));
    }

    [Fact]
    public void Heartbeats_v1_and_v2_give_file_and_position()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(EventBuilder.FormatDescription());
        var v1 = Assert.IsType<HeartbeatEvent>(decoder.Decode(EventBuilder.Event(BinlogEventType.Heartbeat, "binlog.000003"u8.ToArray(), logPosition: 1234)));
        Assert.Equal(("binlog.000003", 1234ul), (v1.FileName, v1.Position));
        byte[] v2Body = [1, 13, .. "binlog.000004"u8.ToArray(), 2, 9, 0xFE, 0, 0, 0, 0, 1, 0, 0, 0];
        var v2 = Assert.IsType<HeartbeatEvent>(decoder.Decode(EventBuilder.Event(BinlogEventType.HeartbeatV2, v2Body, logPosition: 0)));
        Assert.Equal(("binlog.000004", 1ul << 32), (v2.FileName, v2.Position));
    }

    [Fact]
    public void Unknown_event_types_are_skipped_and_decoding_goes_on()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(EventBuilder.FormatDescription());
        var unknown = Assert.IsType<UnknownEvent>(decoder.Decode(EventBuilder.Event((BinlogEventType)222, new byte[37])));
        Assert.Equal(37, unknown.BodyLength);
        Assert.IsType<UnknownEvent>(decoder.Decode(EventBuilder.Event(BinlogEventType.Intvar, new byte[9])));
        var xid = Assert.IsType<XidEvent>(decoder.Decode(EventBuilder.Event(BinlogEventType.Xid, BitConverter.GetBytes(77ul))));
        Assert.Equal(77ul, xid.Xid);
    }

    [Fact]
    public void The_checksum_algorithm_before_the_format_description_is_detected_from_the_bytes()
    {
        byte[] rotateBody = [4, 0, 0, 0, 0, 0, 0, 0, .. "binlog.000001"u8.ToArray()];
        var withCrc = new BinlogEventDecoder();
        Assert.Equal("binlog.000001", Assert.IsType<RotateEvent>(withCrc.Decode(EventBuilder.Event(BinlogEventType.Rotate, rotateBody))).FileName);
        Assert.Equal(BinlogChecksumAlgorithm.Crc32, withCrc.Checksum);
        var without = new BinlogEventDecoder();
        Assert.Equal("binlog.000001", Assert.IsType<RotateEvent>(without.Decode(EventBuilder.Event(BinlogEventType.Rotate, rotateBody, checksum: false))).FileName);
        Assert.Equal(BinlogChecksumAlgorithm.None, without.Checksum);
    }

    [Fact]
    public void A_checksum_mismatch_throws_a_checksum_exception_naming_both_values()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(EventBuilder.FormatDescription());
        var xid = EventBuilder.Event(BinlogEventType.Xid, BitConverter.GetBytes(77ul));
        xid[20] ^= 0x01;
        var error = Assert.Throws<BinlogChecksumException>(() => decoder.Decode(xid));
        Assert.Contains("CRC32 mismatch", error.Message, StringComparison.Ordinal);
        Assert.Contains("Xid", error.Message, StringComparison.Ordinal);
        var lenient = new BinlogEventDecoder(verifyChecksums: false);
        lenient.Decode(EventBuilder.FormatDescription());
        Assert.IsType<XidEvent>(lenient.Decode(xid));
    }

    [Fact]
    public void Decimal_unpacking_handles_sign_partial_groups_and_huge_values()
    {
        // DECIMAL(14,4) 1234567890.1234 and its negative, packed as MySQL does.
        byte[] positive = [0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2];
        Assert.Equal(1234567890.1234m, RowImage.DecodeDecimal(positive, 14, 4));
        var negative = positive.Select(b => (byte)~b).ToArray();
        Assert.Equal(-1234567890.1234m, RowImage.DecodeDecimal(negative, 14, 4));
        Assert.Equal(7, TableColumn.DecimalLength(14, 4));
        Assert.Equal(30, TableColumn.DecimalLength(65, 30));
    }

    public static TheoryData<string, byte[][]> HostileInputs()
    {
        var fde = EventBuilder.FormatDescription();
        byte[] okMap = EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([(byte)BinlogColumnType.Long, (byte)BinlogColumnType.VarChar], [20, 0]));
        var data = new TheoryData<string, byte[][]>
        {
            { "empty event", [[]] },
            { "10-byte header", [new byte[10]] },
            { "event_size below 19", [EventBuilder.Event(BinlogEventType.Xid, new byte[8], eventSize: 5)] },
            { "event_size past the end", [EventBuilder.Event(BinlogEventType.Xid, new byte[8], eventSize: 4000)] },
            { "format description v3", [EventBuilder.FormatDescription(binlogVersion: 3)] },
            { "format description checksum algorithm 7", [EventBuilder.FormatDescription(algorithm: 7)] },
            { "format description truncated", [EventBuilder.Event(BinlogEventType.FormatDescription, new byte[20], checksum: false)] },
            { "rotate without name", [fde, EventBuilder.Event(BinlogEventType.Rotate, new byte[8])] },
            { "rotate truncated", [fde, EventBuilder.Event(BinlogEventType.Rotate, new byte[4])] },
            { "query status vars past the end", [fde, EventBuilder.Event(BinlogEventType.Query, [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0xFF, 0xFF, 1, 2])] },
            { "query schema without NUL", [fde, EventBuilder.Event(BinlogEventType.Query, [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, (byte)'d', (byte)'b', 7, (byte)'X'])] },
            { "xid truncated", [fde, EventBuilder.Event(BinlogEventType.Xid, new byte[3])] },
            { "gtid truncated", [fde, EventBuilder.Event(BinlogEventType.MariaDbGtid, new byte[10])] },
            { "gtid list count a million", [fde, EventBuilder.Event(BinlogEventType.MariaDbGtidList, [0x40, 0x42, 0x0F, 0x00, 1, 2, 3])] },
            { "binlog checkpoint name past the end", [fde, EventBuilder.Event(BinlogEventType.BinlogCheckpoint, [0xFF, 0, 0, 0, (byte)'b'])] },
            { "table map cut after the schema", [fde, EventBuilder.Event(BinlogEventType.TableMap, [7, 0, 0, 0, 0, 0, 1, 0, 2, (byte)'d', (byte)'b', 0])] },
            { "table map schema length past the end", [fde, EventBuilder.Event(BinlogEventType.TableMap, [7, 0, 0, 0, 0, 0, 1, 0, 200, (byte)'d'])] },
            { "table map column count 2^63", [fde, EventBuilder.Event(BinlogEventType.TableMap, [7, 0, 0, 0, 0, 0, 1, 0, 1, (byte)'d', 0, 1, (byte)'t', 0, 0xFE, 0, 0, 0, 0, 0, 0, 0, 0x80, 3])] },
            { "table map column count marker 0xFF", [fde, EventBuilder.Event(BinlogEventType.TableMap, [7, 0, 0, 0, 0, 0, 1, 0, 1, (byte)'d', 0, 1, (byte)'t', 0, 0xFF, 3])] },
            { "table map unknown column type", [fde, EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([200], []))] },
            { "table map DECIMAL precision 0", [fde, EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([(byte)BinlogColumnType.NewDecimal], [0, 0]))] },
            { "table map BLOB with 9 length bytes", [fde, EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([(byte)BinlogColumnType.Blob], [9]))] },
            { "table map DATETIME2 with 9 fraction digits", [fde, EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([(byte)BinlogColumnType.DateTime2], [9]))] },
            { "table map metadata shorter than the types need", [fde, EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([(byte)BinlogColumnType.VarChar, (byte)BinlogColumnType.VarChar], [20, 0]))] },
            { "table map optional metadata past the end", [fde, EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([(byte)BinlogColumnType.Long], [], [4, 50, 1, (byte)'a']))] },
            { "table map signedness bitmap too short", [fde, EventBuilder.Event(BinlogEventType.TableMap, EventBuilder.TableMapBody([(byte)BinlogColumnType.Long], [], [1, 0]))] },
            { "rows column count marker 0xFB", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV1, [7, 0, 0, 0, 0, 0, 1, 0, 0xFB, 0xFF])] },
            { "rows bitmap missing", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV1, [7, 0, 0, 0, 0, 0, 1, 0, 20])] },
            { "rows v2 extra data past the end", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV2, [7, 0, 0, 0, 0, 0, 1, 0, 0xFF, 0x7F, 2, 3])] },
            { "rows v2 extra data length below 2", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV2, [7, 0, 0, 0, 0, 0, 1, 0, 1, 0, 2, 3])] },
            { "rows value truncated", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV1, EventBuilder.WriteRowsBody(2, [0, 1, 2]))] },
            { "rows VARCHAR length past the end", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV1, EventBuilder.WriteRowsBody(2, [0, 1, 0, 0, 0, 200, (byte)'a']))] },
            { "rows second row cut after its NULL bitmap", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV1, EventBuilder.WriteRowsBody(2, [0, 1, 0, 0, 0, 1, (byte)'a', 0x00]))] },
            { "rows column count differs from the table map", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsV1, EventBuilder.WriteRowsBody(3, [0]))] },
            { "compressed rows with a bad header", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsCompressedV1, EventBuilder.WriteRowsBody(2, [0x87, 1]))] },
            { "compressed rows claiming 1 GiB", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsCompressedV1, EventBuilder.WriteRowsBody(2, [0x84, 0x40, 0, 0, 0, 0x78, 0x9C, 3, 0]))] },
            { "compressed rows that are not zlib", [fde, okMap, EventBuilder.Event(BinlogEventType.WriteRowsCompressedV1, EventBuilder.WriteRowsBody(2, [0x81, 10, 1, 2, 3, 4, 5, 6]))] },
            { "compressed query that is not zlib", [fde, EventBuilder.Event(BinlogEventType.QueryCompressed, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 5, 9, 9, 9])] },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public async Task Hostile_or_truncated_bytes_throw_a_clear_format_exception(string name, byte[][] events)
    {
        var work = Task.Run(() =>
        {
            var decoder = new BinlogEventDecoder();
            foreach (var bytes in events)
            {
                if (decoder.Decode(bytes) is RowsEvent rows)
                {
                    rows.DecodeRows();
                }
            }
        });
        var error = await Assert.ThrowsAnyAsync<BinlogFormatException>(() => work.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("expected", error.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(name));
    }

    [Fact]
    public void A_binlog_file_without_the_magic_or_with_a_cut_event_is_rejected()
    {
        Assert.Throws<BinlogFormatException>(() => BinlogFileReader.SplitEvents(new byte[] { 1, 2, 3, 4 }));
        byte[] file = [.. BinlogFileReader.Magic, .. EventBuilder.FormatDescription(), .. EventBuilder.Event(BinlogEventType.Xid, new byte[8])];
        Assert.Equal(2, BinlogFileReader.ReadEvents(file).Count());
        Assert.Throws<BinlogFormatException>(() => BinlogFileReader.SplitEvents(file.AsMemory(0, file.Length - 3)));
        Assert.Single(BinlogFileReader.SplitEvents(file.AsMemory(0, file.Length - 3), allowPartialTail: true));
    }

    [Fact]
    public void Connection_losses_are_told_apart_from_fatal_errors()
    {
        Assert.True(BinlogClient.IsConnectionLoss(new IOException("reset")));
        Assert.True(BinlogClient.IsConnectionLoss(new EndOfStreamException()));
        Assert.True(BinlogClient.IsConnectionLoss(new ReplicationConnectionException(ReplicationConnectionException.ServerLost, "lost")));
        Assert.True(BinlogClient.IsConnectionLoss(new ReplicationException(1053, "08S01", "shutdown")));
        Assert.False(BinlogClient.IsConnectionLoss(new ReplicationException(1236, "HY000", "binlog missing")));
        Assert.False(BinlogClient.IsConnectionLoss(new ReplicationException(1045, "28000", "denied")));
        Assert.False(BinlogClient.IsConnectionLoss(new BinlogChecksumException("bad")));
    }
}
