using Google.Protobuf;

namespace ReadHistory.TestSupport.Server;

/// <summary>
/// Public CheckRequest / MarkReadRequest / BatchCheckRequest bytes as a client might send them: fields in any order, repeated (last wins),
/// ids packed or not, known fields with another wire type, unknown fields of every wire type (groups too), empty and
/// large id lists, invalid values, and now and then bytes that do not parse (truncated or garbage).
/// </summary>
internal sealed class RandomRequests(int seed, int maxIds)
{
    private static readonly string[] Tenants = ["", "", "", "feed", "nowhere", "Bad!", new string('t', 70)];
    private static readonly string[] Sessions = ["", "", "s-1", "session-42", "ünïcødé", new string('s', 300)];

    private readonly Random _random = new(seed);

    /// <summary>A CheckRequest's bytes.</summary>
    public byte[] Check(ulong userId) => Mangle(CheckMessage(userId));

    /// <summary>
    /// A BatchCheckRequest's bytes: an entry per user (each a CheckRequest as <see cref="Check"/> writes it, before
    /// mangling), the request's tenant, unknown fields and an entry field with another wire type, in any order.
    /// </summary>
    public byte[] BatchCheck(IReadOnlyList<ulong> users) => Mangle(Write(output =>
    {
        var entries = users.Select(CheckMessage).ToList();
        var tenant = _random.Next(3) == 0 ? -1 : _random.Next(entries.Count + 1);
        for (var i = 0; i <= entries.Count; i++)
        {
            if (i == tenant)
            {
                Text(output, 2, Tenants);
            }

            if (_random.Next(6) == 0)
            {
                Unknown(output);
            }

            if (_random.Next(40) == 0)
            {
                // Field 1 as a varint: an unknown field, not an entry.
                output.WriteTag(1, WireFormat.WireType.Varint);
                output.WriteUInt32(5);
            }

            if (i < entries.Count)
            {
                output.WriteTag(1, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(entries[i]);
            }
        }
    }));

    private ByteString CheckMessage(ulong userId) => Write(output =>
    {
        var ids = IdCount();
        var packed = _random.Next(3) != 0;
        var fields = Shuffled(6);
        foreach (var field in fields)
        {
            switch (field)
            {
                case 0:
                    UserId(output, userId);
                    break;
                case 1:
                    ContentType(output);
                    break;
                case 2:
                    Ids(output, ids, packed);
                    break;
                case 3:
                    Text(output, 4, Sessions);
                    break;
                case 4:
                    Text(output, 5, Tenants);
                    break;
                default:
                    Unknown(output);
                    break;
            }
        }
    });

    /// <summary>A MarkReadRequest's bytes.</summary>
    public byte[] MarkRead(ulong userId) => Mangle(Write(output =>
    {
        var items = IdCount();
        foreach (var field in Shuffled(6))
        {
            switch (field)
            {
                case 0:
                    UserId(output, userId);
                    break;
                case 1:
                    ContentType(output);
                    break;
                case 2:
                    for (var i = 0; i < items; i++)
                    {
                        output.WriteTag(3, WireFormat.WireType.LengthDelimited);
                        output.WriteBytes(Write(Item));
                    }

                    break;
                case 3:
                    Text(output, 4, Sessions);
                    break;
                case 4:
                    Text(output, 5, Tenants);
                    break;
                default:
                    Unknown(output);
                    break;
            }
        }
    }));

    private static ByteString Write(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return ByteString.CopyFrom(stream.ToArray());
    }

    private void Item(CodedOutputStream output)
    {
        foreach (var field in Shuffled(3))
        {
            switch (field)
            {
                case 0:
                    output.WriteTag(1, WireFormat.WireType.Fixed64);
                    output.WriteFixed64(_random.Next(40) == 0 ? 0 : (ulong)_random.NextInt64(1, long.MaxValue));
                    break;
                case 1:
                    output.WriteTag(2, WireFormat.WireType.Varint);
                    output.WriteInt64(_random.Next(8) switch
                    {
                        0 => -5,
                        1 => DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeMilliseconds(),
                        2 => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                        _ => 0,
                    });
                    break;
                default:
                    Unknown(output);
                    break;
            }
        }
    }

    private int IdCount() => _random.Next(10) switch
    {
        0 => 0,
        1 => maxIds,
        2 => maxIds + 1,
        3 => _random.Next(1, maxIds),
        _ => _random.Next(1, 500),
    };

    private void UserId(CodedOutputStream output, ulong userId)
    {
        if (_random.Next(10) == 0)
        {
            // A value that the next one replaces, or the field with a wire type that makes it unknown.
            output.WriteTag(1, _random.Next(2) == 0 ? WireFormat.WireType.Fixed64 : WireFormat.WireType.Varint);
            output.WriteFixed64(12345);
        }

        if (_random.Next(20) != 0)
        {
            output.WriteTag(1, WireFormat.WireType.Fixed64);
            output.WriteFixed64(_random.Next(30) == 0 ? 0 : userId);
        }
    }

    private void ContentType(CodedOutputStream output)
    {
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteUInt64(_random.Next(10) switch
        {
            0 => 70_000,
            1 => (1UL << 32) + 7, // truncated to 7 by a uint32 reader
            _ => (ulong)_random.Next(0, 4),
        });
    }

    private void Ids(CodedOutputStream output, int count, bool packed)
    {
        var ids = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = _random.Next(count * 4 + 1) == 0 ? 0 : (ulong)_random.NextInt64(1, 1 << 20);
        }

        if (packed)
        {
            // Sometimes in two packed runs: a parser concatenates them.
            var split = count > 1 && _random.Next(4) == 0 ? count / 2 : count;
            foreach (var (start, end) in new[] { (0, split), (split, count) })
            {
                if (end > start || count == 0)
                {
                    output.WriteTag(3, WireFormat.WireType.LengthDelimited);
                    output.WriteLength((end - start) * 8);
                    for (var i = start; i < end; i++)
                    {
                        output.WriteFixed64(ids[i]);
                    }
                }

                if (count == 0)
                {
                    break;
                }
            }
        }
        else
        {
            foreach (var id in ids)
            {
                output.WriteTag(3, WireFormat.WireType.Fixed64);
                output.WriteFixed64(id);
            }
        }
    }

    private void Text(CodedOutputStream output, int field, string[] choices)
    {
        var count = _random.Next(4) == 0 ? 2 : 1;
        for (var i = 0; i < count; i++)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteString(choices[_random.Next(choices.Length)]);
        }
    }

    private void Unknown(CodedOutputStream output)
    {
        for (var n = _random.Next(3); n > 0; n--)
        {
            var field = _random.Next(6, 2000);
            switch (_random.Next(5))
            {
                case 0:
                    output.WriteTag(field, WireFormat.WireType.Varint);
                    output.WriteUInt64((ulong)_random.NextInt64());
                    break;
                case 1:
                    output.WriteTag(field, WireFormat.WireType.Fixed64);
                    output.WriteFixed64(7);
                    break;
                case 2:
                    output.WriteTag(field, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(new byte[_random.Next(40)]));
                    break;
                case 3:
                    output.WriteTag(field, WireFormat.WireType.Fixed32);
                    output.WriteFixed32(9);
                    break;
                default:
                    output.WriteTag(field, WireFormat.WireType.StartGroup);
                    output.WriteTag(1, WireFormat.WireType.Varint);
                    output.WriteUInt32(3);
                    output.WriteTag(field, WireFormat.WireType.EndGroup);
                    break;
            }
        }
    }

    private int[] Shuffled(int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        _random.Shuffle(order);
        return order;
    }

    // One request in 12 does not parse as it stands: cut short, or a byte flipped, or garbage.
    private byte[] Mangle(ByteString message)
    {
        var bytes = message.ToByteArray();
        switch (_random.Next(36))
        {
            case 0 when bytes.Length > 1:
                return bytes[..^_random.Next(1, Math.Min(bytes.Length, 9))];
            case 1 when bytes.Length > 0:
                bytes[_random.Next(bytes.Length)] ^= (byte)_random.Next(1, 256);
                return bytes;
            case 2:
                var garbage = new byte[_random.Next(1, 30)];
                _random.NextBytes(garbage);
                return garbage;
            default:
                return bytes;
        }
    }
}
