using System.Collections;
using System.Data;
using System.Data.Common;
using System.Text;
using ReadHistory.MySql.Protocol;

namespace ReadHistory.MySql;

/// <summary>
/// Reads result sets row by row straight from the socket: each row is decoded in place from the session's receive
/// buffer, so a scan of any length holds one row at a time. Async methods do asynchronous socket I/O.
/// </summary>
public sealed class MySqlDataReader : DbDataReader
{
    private static readonly Task<bool> TrueTask = Task.FromResult(true);
    private static readonly Task<bool> FalseTask = Task.FromResult(false);

    private readonly MySqlCommand _command;
    private readonly MySqlConnection _connection;
    private readonly ServerSession _session;
    private readonly CommandBehavior _behavior;
    private readonly bool _binary;
    private readonly bool _treatTinyAsBoolean;
    private readonly bool _convertZeroDateTime;
    private ColumnDefinition[] _columns = [];
    private int[] _starts = [];
    private int[] _lengths = [];
    private ReadOnlyMemory<byte> _row;
    private bool _hasRow;
    private ReadOnlyMemory<byte>? _peeked;
    private State _state;
    private bool _moreResults;
    private long _recordsAffected = -1;
    private bool _closed;
    private bool _commandEnded;

    internal MySqlDataReader(MySqlCommand command, MySqlConnection connection, ServerSession session, CommandBehavior behavior, bool binary)
    {
        _command = command;
        _connection = connection;
        _session = session;
        _behavior = behavior;
        _binary = binary;
        _treatTinyAsBoolean = session.Settings.TreatTinyAsBoolean;
        _convertZeroDateTime = session.Settings.ConvertZeroDateTime;
    }

    private enum State
    {
        InRows,
        RowsDone,
        Done,
    }

    /// <inheritdoc />
    public override int Depth => 0;

    /// <inheritdoc />
    public override int FieldCount => _columns.Length;

    /// <inheritdoc />
    public override bool HasRows
    {
        get
        {
            if (_hasRow)
            {
                return true;
            }

            if (_state != State.InRows)
            {
                return false;
            }

            if (_peeked is null)
            {
                var payload = Sync.Wait(_session.ReceiveAsync(IOBehavior.Synchronous));
                _peeked = payload;
            }

            return !OkPayload.IsEndOfRows(_peeked.Value.Span) && !ErrorPayload.IsError(_peeked.Value.Span);
        }
    }

    /// <inheritdoc />
    public override bool IsClosed => _closed;

    /// <inheritdoc />
    public override int RecordsAffected => (int)Math.Min(_recordsAffected, int.MaxValue);

    /// <summary>The last AUTO_INCREMENT id of the statements read so far.</summary>
    public long LastInsertedId { get; private set; } = -1;

    /// <inheritdoc />
    public override object this[int ordinal] => GetValue(ordinal);

    /// <inheritdoc />
    public override object this[string name] => GetValue(GetOrdinal(name));

    /// <inheritdoc />
    public override bool Read() => Sync.Wait(ReadAsync(IOBehavior.Synchronous, default));

    /// <inheritdoc />
    public override Task<bool> ReadAsync(CancellationToken cancellationToken)
    {
        if (_state != State.InRows)
        {
            _hasRow = false;
            return FalseTask;
        }

        if (_peeked is null)
        {
            var pending = _session.ReceiveAsync(IOBehavior.Asynchronous);
            if (pending.IsCompletedSuccessfully)
            {
                var payload = pending.Result;
                return TryAcceptRow(payload) ? TrueTask : FinishAsync(payload);
            }

            return ReadSlowAsync(pending, cancellationToken);
        }

        return ReadAsync(IOBehavior.Asynchronous, cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public override bool NextResult() => Sync.Wait(NextResultAsync(IOBehavior.Synchronous));

    /// <inheritdoc />
    public override Task<bool> NextResultAsync(CancellationToken cancellationToken)
    {
        _session.RegisterCancellation(cancellationToken);
        return NextResultAsync(IOBehavior.Asynchronous).AsTask();
    }

    /// <inheritdoc />
    public override string GetName(int ordinal) => Column(ordinal).Name;

    /// <inheritdoc />
    public override int GetOrdinal(string name)
    {
        for (var i = 0; i < _columns.Length; i++)
        {
            if (string.Equals(_columns[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        for (var i = 0; i < _columns.Length; i++)
        {
            if (string.Equals(_columns[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new IndexOutOfRangeException($"The column '{name}' is not in the result set.");
    }

    /// <inheritdoc />
    public override string GetDataTypeName(int ordinal) => RowValues.GetDataTypeName(Column(ordinal));

    /// <inheritdoc />
    public override Type GetFieldType(int ordinal) => RowValues.GetFieldType(Column(ordinal), _treatTinyAsBoolean);

    /// <inheritdoc />
    public override bool IsDBNull(int ordinal)
    {
        CheckRow(ordinal);
        return _lengths[ordinal] < 0;
    }

    /// <inheritdoc />
    public override Task<bool> IsDBNullAsync(int ordinal, CancellationToken cancellationToken) => IsDBNull(ordinal) ? TrueTask : FalseTask;

    /// <inheritdoc />
    public override object GetValue(int ordinal)
    {
        var value = Value(ordinal, out var column);
        if (_lengths[ordinal] < 0)
        {
            return DBNull.Value;
        }

        return column.Type switch
        {
            ColumnType.Tiny when _treatTinyAsBoolean && column.Length == 1 && !column.IsUnsigned => RowValues.GetInt64(value, column, _binary) != 0,
            ColumnType.Tiny => column.IsUnsigned ? (byte)RowValues.GetInt64(value, column, _binary) : (sbyte)RowValues.GetInt64(value, column, _binary),
            ColumnType.Short => column.IsUnsigned ? (ushort)RowValues.GetInt64(value, column, _binary) : (short)RowValues.GetInt64(value, column, _binary),
            ColumnType.Int24 or ColumnType.Long => column.IsUnsigned ? (uint)RowValues.GetInt64(value, column, _binary) : (int)RowValues.GetInt64(value, column, _binary),
            ColumnType.LongLong => column.IsUnsigned ? RowValues.GetUInt64(value, column, _binary) : RowValues.GetInt64(value, column, _binary),
            ColumnType.Year => (int)RowValues.GetInt64(value, column, _binary),
            ColumnType.Float => RowValues.GetFloat(value, column, _binary),
            ColumnType.Double => RowValues.GetDouble(value, column, _binary),
            ColumnType.Decimal or ColumnType.NewDecimal => RowValues.GetDecimal(value, column, _binary),
            ColumnType.Date or ColumnType.NewDate or ColumnType.DateTime or ColumnType.DateTime2 or ColumnType.Timestamp or ColumnType.Timestamp2 =>
                RowValues.GetDateTime(value, column, _binary, _convertZeroDateTime),
            ColumnType.Time or ColumnType.Time2 => RowValues.GetTimeSpan(value, column, _binary),
            ColumnType.Bit => RowValues.GetBit(value),
            ColumnType.Null => DBNull.Value,
            _ => column.IsBinary ? value.ToArray() : Encoding.UTF8.GetString(value),
        };
    }

    /// <inheritdoc />
    public override int GetValues(object[] values)
    {
        var count = Math.Min(values.Length, _columns.Length);
        for (var i = 0; i < count; i++)
        {
            values[i] = GetValue(i);
        }

        return count;
    }

    /// <inheritdoc />
    public override bool GetBoolean(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        if (RowValues.IsInteger(column.Type) || column.Type == ColumnType.Bit)
        {
            return RowValues.GetInt64(value, column, _binary) != 0;
        }

        return Convert.ToBoolean(GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public override byte GetByte(int ordinal) => checked((byte)GetInt64(ordinal));

    /// <summary>Gets a signed byte.</summary>
    public sbyte GetSByte(int ordinal) => checked((sbyte)GetInt64(ordinal));

    /// <inheritdoc />
    public override short GetInt16(int ordinal) => checked((short)GetInt64(ordinal));

    /// <inheritdoc />
    public override int GetInt32(int ordinal) => checked((int)GetInt64(ordinal));

    /// <inheritdoc />
    public override long GetInt64(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        return column.Type switch
        {
            ColumnType.Float or ColumnType.Double => checked((long)RowValues.GetDouble(value, column, _binary)),
            ColumnType.Decimal or ColumnType.NewDecimal => checked((long)RowValues.GetDecimal(value, column, _binary)),
            _ => RowValues.GetInt64(value, column, _binary),
        };
    }

    /// <summary>Gets an unsigned 16-bit integer.</summary>
    public ushort GetUInt16(int ordinal) => checked((ushort)GetUInt64(ordinal));

    /// <summary>Gets an unsigned 32-bit integer.</summary>
    public uint GetUInt32(int ordinal) => checked((uint)GetUInt64(ordinal));

    /// <summary>Gets an unsigned 64-bit integer.</summary>
    public ulong GetUInt64(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        return RowValues.GetUInt64(value, column, _binary);
    }

    /// <inheritdoc />
    public override double GetDouble(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        return RowValues.GetDouble(value, column, _binary);
    }

    /// <inheritdoc />
    public override float GetFloat(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        return RowValues.GetFloat(value, column, _binary);
    }

    /// <inheritdoc />
    public override decimal GetDecimal(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        return RowValues.GetDecimal(value, column, _binary);
    }

    /// <inheritdoc />
    public override DateTime GetDateTime(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        if (!_binary && column.Type is ColumnType.VarString or ColumnType.String or ColumnType.VarChar)
        {
            return DateTime.Parse(Encoding.UTF8.GetString(value), System.Globalization.CultureInfo.InvariantCulture);
        }

        return RowValues.GetDateTime(value, column, _binary, _convertZeroDateTime);
    }

    /// <summary>Gets a TIME value.</summary>
    public TimeSpan GetTimeSpan(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        return RowValues.GetTimeSpan(value, column, _binary);
    }

    /// <inheritdoc />
    public override string GetString(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        if (!_binary || !RowValues.GetFieldType(column, false).IsValueType)
        {
            return Encoding.UTF8.GetString(value);
        }

        return Convert.ToString(GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
    }

    /// <inheritdoc />
    public override char GetChar(int ordinal)
    {
        var text = GetString(ordinal);
        return text.Length > 0 ? text[0] : throw new InvalidCastException("The value is an empty string.");
    }

    /// <inheritdoc />
    public override Guid GetGuid(int ordinal)
    {
        var value = NonNullValue(ordinal, out var column);
        return column.IsBinary && value.Length == 16 ? new Guid(value) : Guid.Parse(Encoding.UTF8.GetString(value));
    }

    /// <inheritdoc />
    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length)
    {
        var value = NonNullValue(ordinal, out _);
        if (buffer is null)
        {
            return value.Length;
        }

        if (dataOffset >= value.Length)
        {
            return 0;
        }

        var count = Math.Min(length, value.Length - (int)dataOffset);
        value.Slice((int)dataOffset, count).CopyTo(buffer.AsSpan(bufferOffset));
        return count;
    }

    /// <inheritdoc />
    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length)
    {
        var text = GetString(ordinal);
        if (buffer is null)
        {
            return text.Length;
        }

        if (dataOffset >= text.Length)
        {
            return 0;
        }

        var count = Math.Min(length, text.Length - (int)dataOffset);
        text.CopyTo((int)dataOffset, buffer, bufferOffset, count);
        return count;
    }

    /// <inheritdoc />
    public override Stream GetStream(int ordinal)
    {
        var value = NonNullValue(ordinal, out _);
        return new MemoryStream(value.ToArray(), writable: false);
    }

    /// <inheritdoc />
    public override T GetFieldValue<T>(int ordinal)
    {
        if (IsDBNull(ordinal))
        {
            if (default(T) is null)
            {
                return typeof(T) == typeof(DBNull) || typeof(T) == typeof(object) ? (T)(object)DBNull.Value : default!;
            }

            throw new InvalidCastException($"Column '{Column(ordinal).Name}' is NULL; read it as {typeof(T).Name}? or check IsDBNull.");
        }

        if (typeof(T) == typeof(long) || typeof(T) == typeof(long?))
        {
            return (T)(object)GetInt64(ordinal);
        }

        if (typeof(T) == typeof(int) || typeof(T) == typeof(int?))
        {
            return (T)(object)GetInt32(ordinal);
        }

        if (typeof(T) == typeof(ulong) || typeof(T) == typeof(ulong?))
        {
            return (T)(object)GetUInt64(ordinal);
        }

        if (typeof(T) == typeof(uint) || typeof(T) == typeof(uint?))
        {
            return (T)(object)GetUInt32(ordinal);
        }

        if (typeof(T) == typeof(short) || typeof(T) == typeof(short?))
        {
            return (T)(object)GetInt16(ordinal);
        }

        if (typeof(T) == typeof(ushort) || typeof(T) == typeof(ushort?))
        {
            return (T)(object)GetUInt16(ordinal);
        }

        if (typeof(T) == typeof(byte) || typeof(T) == typeof(byte?))
        {
            return (T)(object)GetByte(ordinal);
        }

        if (typeof(T) == typeof(sbyte) || typeof(T) == typeof(sbyte?))
        {
            return (T)(object)GetSByte(ordinal);
        }

        if (typeof(T) == typeof(bool) || typeof(T) == typeof(bool?))
        {
            return (T)(object)GetBoolean(ordinal);
        }

        if (typeof(T) == typeof(double) || typeof(T) == typeof(double?))
        {
            return (T)(object)GetDouble(ordinal);
        }

        if (typeof(T) == typeof(float) || typeof(T) == typeof(float?))
        {
            return (T)(object)GetFloat(ordinal);
        }

        if (typeof(T) == typeof(decimal) || typeof(T) == typeof(decimal?))
        {
            return (T)(object)GetDecimal(ordinal);
        }

        if (typeof(T) == typeof(string))
        {
            return (T)(object)GetString(ordinal);
        }

        if (typeof(T) == typeof(DateTime) || typeof(T) == typeof(DateTime?))
        {
            return (T)(object)GetDateTime(ordinal);
        }

        if (typeof(T) == typeof(DateOnly) || typeof(T) == typeof(DateOnly?))
        {
            return (T)(object)DateOnly.FromDateTime(GetDateTime(ordinal));
        }

        if (typeof(T) == typeof(TimeSpan) || typeof(T) == typeof(TimeSpan?))
        {
            return (T)(object)GetTimeSpan(ordinal);
        }

        if (typeof(T) == typeof(TimeOnly) || typeof(T) == typeof(TimeOnly?))
        {
            return (T)(object)TimeOnly.FromTimeSpan(GetTimeSpan(ordinal));
        }

        if (typeof(T) == typeof(DateTimeOffset) || typeof(T) == typeof(DateTimeOffset?))
        {
            return (T)(object)new DateTimeOffset(DateTime.SpecifyKind(GetDateTime(ordinal), DateTimeKind.Utc));
        }

        if (typeof(T) == typeof(byte[]))
        {
            return (T)(object)NonNullValue(ordinal, out _).ToArray();
        }

        if (typeof(T) == typeof(Guid) || typeof(T) == typeof(Guid?))
        {
            return (T)(object)GetGuid(ordinal);
        }

        if (typeof(T) == typeof(Stream))
        {
            return (T)(object)GetStream(ordinal);
        }

        var underlying = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        if (underlying.IsEnum)
        {
            var raw = GetValue(ordinal);
            return (T)(raw is string name ? Enum.Parse(underlying, name, ignoreCase: true) : Enum.ToObject(underlying, raw));
        }

        return (T)GetValue(ordinal);
    }

    /// <inheritdoc />
    public override Task<T> GetFieldValueAsync<T>(int ordinal, CancellationToken cancellationToken) => Task.FromResult(GetFieldValue<T>(ordinal));

    /// <inheritdoc />
    public override IEnumerator GetEnumerator() => new DbEnumerator(this, closeReader: false);

    /// <inheritdoc />
    public override DataTable? GetSchemaTable()
    {
        var table = new DataTable("SchemaTable") { Locale = System.Globalization.CultureInfo.InvariantCulture };
        table.Columns.Add("ColumnName", typeof(string));
        table.Columns.Add("ColumnOrdinal", typeof(int));
        table.Columns.Add("ColumnSize", typeof(int));
        table.Columns.Add("DataType", typeof(Type));
        table.Columns.Add("DataTypeName", typeof(string));
        table.Columns.Add("AllowDBNull", typeof(bool));
        table.Columns.Add("BaseTableName", typeof(string));
        table.Columns.Add("BaseSchemaName", typeof(string));
        for (var i = 0; i < _columns.Length; i++)
        {
            var column = _columns[i];
            table.Rows.Add(column.Name, i, (int)Math.Min(column.Length, int.MaxValue), GetFieldType(i), GetDataTypeName(i),
                (column.Flags & ColumnFlags.NotNull) == 0, column.Table, column.Database);
        }

        return table;
    }

    /// <inheritdoc />
    public override void Close() => Sync.Wait(CloseAsync(IOBehavior.Synchronous));

    /// <inheritdoc />
    public override Task CloseAsync() => CloseAsync(IOBehavior.Asynchronous).AsTask();

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await CloseAsync(IOBehavior.Asynchronous).ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }

        base.Dispose(disposing);
    }

    /// <summary>Reads up to the first result set (skipping OK results of statements without rows).</summary>
    internal ValueTask InitializeAsync(IOBehavior io) => ReadResultHeaderAsync(io);

    internal async ValueTask<bool> ReadAsync(IOBehavior io, CancellationToken cancellationToken)
    {
        if (_state != State.InRows)
        {
            _hasRow = false;
            return false;
        }

        _session.RegisterCancellation(cancellationToken);
        ReadOnlyMemory<byte> payload;
        if (_peeked is { } peeked)
        {
            _peeked = null;
            payload = peeked;
        }
        else
        {
            payload = await ReceiveAsync(io).ConfigureAwait(false);
        }

        if (TryAcceptRow(payload))
        {
            return true;
        }

        await FinishRowsAsync(payload, io).ConfigureAwait(false);
        return false;
    }

    private async Task<bool> ReadSlowAsync(ValueTask<ReadOnlyMemory<byte>> pending, CancellationToken cancellationToken)
    {
        _session.RegisterCancellation(cancellationToken);
        ReadOnlyMemory<byte> payload;
        try
        {
            payload = await pending.ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            throw await FailAsync(ex).ConfigureAwait(false);
        }

        if (TryAcceptRow(payload))
        {
            return true;
        }

        await FinishRowsAsync(payload, IOBehavior.Asynchronous).ConfigureAwait(false);
        return false;
    }

    private async Task<bool> FinishAsync(ReadOnlyMemory<byte> payload)
    {
        await FinishRowsAsync(payload, IOBehavior.Asynchronous).ConfigureAwait(false);
        return false;
    }

    /// <summary>Takes a payload as the current row if it is one (not EOF/OK/ERR).</summary>
    private bool TryAcceptRow(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        if (span.Length == 0 || span[0] == 0xFF || OkPayload.IsEndOfRows(span))
        {
            _hasRow = false;
            return false;
        }

        try
        {
            RowValues.Split(span, _columns, _binary, _starts, _lengths);
        }
        catch (MySqlProtocolException)
        {
            _session.MarkBroken("malformed row");
            _state = State.Done;
            throw;
        }

        _row = payload;
        _hasRow = true;
        return true;
    }

    /// <summary>Handles the payload that ended a result set: EOF/OK (maybe more results follow) or ERR.</summary>
    private async ValueTask FinishRowsAsync(ReadOnlyMemory<byte> payload, IOBehavior io)
    {
        _hasRow = false;
        var span = payload.Span;
        if (span.Length > 0 && span[0] == 0xFF)
        {
            var exception = _session.CreateServerException(ErrorPayload.Create(span));
            _state = State.Done;
            await EndCommandAsync(io).ConfigureAwait(false);
            throw exception;
        }

        if (!OkPayload.IsEndOfRows(span))
        {
            _state = State.Done;
            throw _session.ProtocolError("expected the end of a result set");
        }

        var ok = _session.DeprecateEof ? OkPayload.Create(span) : OkPayload.CreateFromEof(span);
        _session.LastStatus = ok.Status;
        _moreResults = (ok.Status & ServerStatus.MoreResultsExist) != 0;
        _state = State.RowsDone;
        if (!_moreResults)
        {
            _state = State.Done;
            await EndCommandAsync(io).ConfigureAwait(false);
        }
    }

    private async ValueTask<bool> NextResultAsync(IOBehavior io)
    {
        while (_state == State.InRows)
        {
            await ReadAsync(io, default).ConfigureAwait(false);
        }

        if (_state == State.RowsDone && _moreResults)
        {
            await ReadResultHeaderAsync(io).ConfigureAwait(false);
            return _state == State.InRows;
        }

        _columns = [];
        return false;
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadResultHeaderAsync(IOBehavior io)
    {
        _hasRow = false;
        _columns = [];
        while (true)
        {
            var payload = await ReceiveAsync(io).ConfigureAwait(false);
            var first = payload.Length == 0 ? throw _session.ProtocolError("empty result header") : payload.Span[0];
            if (first == 0x00)
            {
                var ok = _session.ReadOk(payload.Span);
                _recordsAffected = (_recordsAffected < 0 ? 0 : _recordsAffected) + (long)ok.AffectedRows;
                if (ok.LastInsertId != 0)
                {
                    LastInsertedId = (long)ok.LastInsertId;
                }

                if ((ok.Status & ServerStatus.MoreResultsExist) != 0)
                {
                    continue;
                }

                _state = State.Done;
                await EndCommandAsync(io).ConfigureAwait(false);
                return;
            }

            if (first == 0xFF)
            {
                var exception = _session.CreateServerException(ErrorPayload.Create(payload.Span));
                _state = State.Done;
                await EndCommandAsync(io).ConfigureAwait(false);
                throw exception;
            }

            if (first == 0xFB)
            {
                // LOCAL INFILE request: not supported; an empty packet tells the server there is no file.
                await _session.SendCommandAsync(ReadOnlyMemory<byte>.Empty, io).ConfigureAwait(false);
                continue;
            }

            var count = ReadColumnCount(payload.Span);

            // The last result set's column definitions are kept on the session: a repeated query reuses them
            // instead of decoding (and allocating) them again.
            var cache = _session.LastColumns;
            var reuse = cache is not null && cache.Value.Columns.Length == count;
            ColumnDefinition[]? columns = null;
            byte[][]? payloads = null;
            for (var i = 0; i < count; i++)
            {
                var definition = await ReceiveAsync(io).ConfigureAwait(false);
                if (reuse && definition.Span.SequenceEqual(cache!.Value.Payloads[i]))
                {
                    continue;
                }

                if (columns is null)
                {
                    columns = new ColumnDefinition[count];
                    payloads = new byte[count][];
                    if (reuse)
                    {
                        Array.Copy(cache!.Value.Columns, columns, i);
                        Array.Copy(cache.Value.Payloads, payloads, i);
                    }

                    reuse = false;
                }

                columns[i] = ParseColumn(definition.Span);
                payloads![i] = definition.ToArray();
            }

            if (columns is null)
            {
                columns = cache!.Value.Columns;
            }
            else
            {
                _session.LastColumns = (payloads!, columns);
            }

            if (!_session.DeprecateEof)
            {
                var eof = await ReceiveAsync(io).ConfigureAwait(false);
                if (!OkPayload.IsEndOfRows(eof.Span))
                {
                    throw _session.ProtocolError("expected EOF after the column definitions");
                }
            }

            _columns = columns;
            if (_starts.Length < count)
            {
                (_starts, _lengths) = _session.GetRowOffsetArrays(count);
            }

            _state = State.InRows;
            return;
        }
    }

    private int ReadColumnCount(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new PayloadReader(payload);
            var count = reader.ReadLengthEncodedInteger();
            if (count == 0 || count > 4096 || reader.Remaining != 0)
            {
                throw new MySqlProtocolException($"invalid column count {count}");
            }

            return (int)count;
        }
        catch (MySqlProtocolException ex)
        {
            _session.MarkBroken("malformed result header");
            _state = State.Done;
            throw new MySqlProtocolException(ex.Message.Replace("MySQL protocol violation: ", string.Empty, StringComparison.Ordinal));
        }
    }

    private ColumnDefinition ParseColumn(ReadOnlySpan<byte> payload)
    {
        try
        {
            return ColumnDefinition.Create(payload);
        }
        catch (MySqlProtocolException)
        {
            _session.MarkBroken("malformed column definition");
            _state = State.Done;
            throw;
        }
    }

    private ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(IOBehavior io)
    {
        var pending = _session.ReceiveAsync(io);
        return pending.IsCompletedSuccessfully ? pending : ReceiveSlowAsync(pending);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>> ReceiveSlowAsync(ValueTask<ReadOnlyMemory<byte>> pending)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            throw await FailAsync(ex).ConfigureAwait(false);
        }
    }

    /// <summary>A network or protocol failure ends the reader; the session is broken and will be discarded.</summary>
    private async ValueTask<Exception> FailAsync(MySqlException exception)
    {
        _state = State.Done;
        _hasRow = false;
        var mapped = _session.MapCommandException(exception);
        await EndCommandAsync(IOBehavior.Asynchronous).ConfigureAwait(false);
        _connection.OnSessionFailure();
        return mapped;
    }

    private async ValueTask EndCommandAsync(IOBehavior io)
    {
        if (!_commandEnded)
        {
            _commandEnded = true;
            await _session.EndCommandAsync(io).ConfigureAwait(false);
            _command.OnReaderFinished(this);
        }
    }

    private async ValueTask CloseAsync(IOBehavior io)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        try
        {
            if (!_session.IsBroken)
            {
                while (_state != State.Done)
                {
                    if (_state == State.InRows)
                    {
                        await ReadAsync(io, default).ConfigureAwait(false);
                    }
                    else
                    {
                        await NextResultAsync(io).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (MySqlException)
        {
            // Errors of statements the caller did not read are dropped, as in other providers.
        }
        catch (OperationCanceledException)
        {
            // The query was cancelled while the rest was being skipped.
        }
        finally
        {
            await EndCommandAsync(io).ConfigureAwait(false);
            _connection.OnReaderClosed(this);
            if ((_behavior & CommandBehavior.CloseConnection) != 0)
            {
                await _connection.CloseAsync(io).ConfigureAwait(false);
            }
        }
    }

    private ColumnDefinition Column(int ordinal) =>
        (uint)ordinal < (uint)_columns.Length ? _columns[ordinal] : throw new IndexOutOfRangeException($"Column ordinal {ordinal} is out of range (0..{_columns.Length - 1}).");

    private void CheckRow(int ordinal)
    {
        if (!_hasRow)
        {
            throw new InvalidOperationException("Read() has not returned a row.");
        }

        Column(ordinal);
    }

    private ReadOnlySpan<byte> Value(int ordinal, out ColumnDefinition column)
    {
        CheckRow(ordinal);
        column = _columns[ordinal];
        var length = _lengths[ordinal];
        return length < 0 ? default : _row.Span.Slice(_starts[ordinal], length);
    }

    private ReadOnlySpan<byte> NonNullValue(int ordinal, out ColumnDefinition column)
    {
        var value = Value(ordinal, out column);
        if (_lengths[ordinal] < 0)
        {
            throw new InvalidCastException($"Column '{column.Name}' is NULL.");
        }

        return value;
    }
}
