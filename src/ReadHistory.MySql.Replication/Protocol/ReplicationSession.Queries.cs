using System.Text;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>
/// The few text queries the replication client sends (SET of the dump's session variables, SHOW MASTER STATUS,
/// SHOW BINARY LOGS), over COM_QUERY. Result sets are read as text: rows of nullable strings.
/// </summary>
internal sealed partial class ReplicationSession
{
    /// <summary>Most columns a result set of these queries may declare.</summary>
    private const int MaxColumns = 4096;

    /// <summary>COM_QUERY for a statement without rows; throws the server's error.</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await SendCommandAsync(ReplicationCommands.Query(sql), cancellationToken).ConfigureAwait(false);
        ExpectOk(await ReceivePayloadAsync(cancellationToken).ConfigureAwait(false), sql);
    }

    /// <summary>COM_QUERY returning a text result set (rows of nullable strings); an OK answer is no rows.</summary>
    public async Task<List<string?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        await SendCommandAsync(ReplicationCommands.Query(sql), cancellationToken).ConfigureAwait(false);
        var first = await ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<string?[]>();
        if (first.IsEmpty)
        {
            throw ProtocolError(sql + ": empty reply");
        }

        switch (first.Span[0])
        {
            case 0xFF:
                throw ErrorPacket.ToException(first.Span);
            case 0x00:
                return rows;
        }

        var columns = ReadColumnCount(first.Span, sql);
        for (var i = 0; i < columns; i++)
        {
            var definition = await ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
            if (definition.IsEmpty || ErrorPacket.IsError(definition.Span))
            {
                throw definition.IsEmpty ? ProtocolError(sql + ": empty column definition") : ErrorPacket.ToException(definition.Span);
            }
        }

        if (!DeprecateEof)
        {
            await ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var payload = await ReceivePayloadAsync(cancellationToken).ConfigureAwait(false);
            var span = payload.Span;
            if (span.IsEmpty)
            {
                throw ProtocolError(sql + ": empty row packet");
            }

            if (span[0] == 0xFF)
            {
                throw ErrorPacket.ToException(span);
            }

            if (span[0] == 0xFE && span.Length < MaxPacketPayload)
            {
                return rows;
            }

            rows.Add(ReadRow(span, columns, sql));
        }
    }

    private int ReadColumnCount(ReadOnlySpan<byte> payload, string sql)
    {
        var reader = new PacketReader(payload);
        var count = reader.ReadLengthEncodedIntegerOrNull();
        if (count is not { } n || n == 0 || n > MaxColumns || reader.Remaining != 0)
        {
            throw ProtocolError($"{sql}: expected a column count of 1 .. {MaxColumns}, but the reply starts with 0x{payload[0]:X2}");
        }

        return (int)n;
    }

    private static string?[] ReadRow(ReadOnlySpan<byte> payload, int columns, string sql)
    {
        var reader = new PacketReader(payload);
        var row = new string?[columns];
        for (var i = 0; i < columns; i++)
        {
            row[i] = reader.TryReadLengthEncodedSpan(out var value) ? Encoding.UTF8.GetString(value) : null;
        }

        return reader.Remaining == 0 ? row : throw new ReplicationProtocolException($"{sql}: {reader.Remaining} bytes after the last column of a row");
    }

    private void ExpectOk(ReadOnlyMemory<byte> payload, string what)
    {
        var span = payload.Span;
        if (ErrorPacket.IsError(span))
        {
            throw ErrorPacket.ToException(span);
        }

        if (span.IsEmpty || span[0] != 0x00)
        {
            throw ProtocolError($"{what}: expected OK, but the reply starts with 0x{(span.IsEmpty ? 0 : span[0]):X2}.");
        }
    }
}
