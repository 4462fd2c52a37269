using System.Collections;
using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace ReadHistory.MySql;

/// <summary>A command parameter: a name (with or without '@'/'?') and a value; the value's CLR type decides how it is sent.</summary>
public sealed class MySqlParameter : DbParameter
{
    private string _parameterName = string.Empty;
    private DbType? _dbType;

    /// <summary>Creates an unnamed parameter.</summary>
    public MySqlParameter()
    {
    }

    /// <summary>Creates a parameter with a name and value.</summary>
    public MySqlParameter(string? parameterName, object? value)
    {
        ParameterName = parameterName;
        Value = value;
    }

    /// <inheritdoc />
    public override DbType DbType
    {
        get => _dbType ?? InferDbType(Value);
        set => _dbType = value;
    }

    /// <inheritdoc />
    public override ParameterDirection Direction { get; set; } = ParameterDirection.Input;

    /// <inheritdoc />
    public override bool IsNullable { get; set; }

    /// <inheritdoc />
    [AllowNull]
    public override string ParameterName
    {
        get => _parameterName;
        set
        {
            _parameterName = value ?? string.Empty;
            NormalizedName = NormalizeName(_parameterName);
        }
    }

    /// <inheritdoc />
    public override int Size { get; set; }

    /// <inheritdoc />
    [AllowNull]
    public override string SourceColumn { get; set; } = string.Empty;

    /// <inheritdoc />
    public override bool SourceColumnNullMapping { get; set; }

    /// <inheritdoc />
    public override object? Value { get; set; }

    /// <summary>The name without its '@' or '?' prefix.</summary>
    internal string NormalizedName { get; private set; } = string.Empty;

    /// <inheritdoc />
    public override void ResetDbType() => _dbType = null;

    internal static string NormalizeName(string name) =>
        name.Length > 0 && (name[0] == '@' || name[0] == '?') ? name[1..] : name;

    private static DbType InferDbType(object? value) => value switch
    {
        null or DBNull => DbType.Object,
        string or char => DbType.String,
        bool => DbType.Boolean,
        byte => DbType.Byte,
        sbyte => DbType.SByte,
        short => DbType.Int16,
        ushort => DbType.UInt16,
        int => DbType.Int32,
        uint => DbType.UInt32,
        long => DbType.Int64,
        ulong => DbType.UInt64,
        float => DbType.Single,
        double => DbType.Double,
        decimal => DbType.Decimal,
        DateTime => DbType.DateTime,
        DateTimeOffset => DbType.DateTimeOffset,
        DateOnly => DbType.Date,
        TimeOnly or TimeSpan => DbType.Time,
        Guid => DbType.Guid,
        byte[] => DbType.Binary,
        _ => DbType.Object,
    };
}

/// <summary>The parameters of a <see cref="MySqlCommand"/>, looked up by name without its prefix, case-insensitively.</summary>
public sealed class MySqlParameterCollection : DbParameterCollection
{
    private readonly List<MySqlParameter> _parameters = [];
    private Dictionary<string, int>? _byName;

    /// <inheritdoc />
    public override int Count => _parameters.Count;

    /// <inheritdoc />
    public override object SyncRoot => _parameters;

    /// <summary>The parameter at an index.</summary>
    public new MySqlParameter this[int index]
    {
        get => _parameters[index];
        set => SetParameter(index, value);
    }

    /// <summary>The parameter with a name.</summary>
    public new MySqlParameter this[string parameterName]
    {
        get => (MySqlParameter)GetParameter(parameterName);
        set => SetParameter(parameterName, value);
    }

    /// <summary>Adds a parameter.</summary>
    public MySqlParameter Add(MySqlParameter parameter)
    {
        _parameters.Add(parameter);
        _byName = null;
        return parameter;
    }

    /// <summary>Adds a parameter with a name and value.</summary>
    public MySqlParameter AddWithValue(string parameterName, object? value) => Add(new MySqlParameter(parameterName, value));

    /// <inheritdoc />
    public override int Add(object value)
    {
        Add(Cast(value));
        return _parameters.Count - 1;
    }

    /// <inheritdoc />
    public override void AddRange(Array values)
    {
        foreach (var value in values)
        {
            Add(value!);
        }
    }

    /// <inheritdoc />
    public override void Clear()
    {
        _parameters.Clear();
        _byName = null;
    }

    /// <inheritdoc />
    public override bool Contains(object value) => value is MySqlParameter parameter && _parameters.Contains(parameter);

    /// <inheritdoc />
    public override bool Contains(string value) => IndexOf(value) >= 0;

    /// <inheritdoc />
    public override void CopyTo(Array array, int index) => ((ICollection)_parameters).CopyTo(array, index);

    /// <inheritdoc />
    public override IEnumerator GetEnumerator() => _parameters.GetEnumerator();

    /// <inheritdoc />
    public override int IndexOf(object value) => value is MySqlParameter parameter ? _parameters.IndexOf(parameter) : -1;

    /// <inheritdoc />
    public override int IndexOf(string parameterName) => NormalizedIndexOf(MySqlParameter.NormalizeName(parameterName));

    /// <inheritdoc />
    public override void Insert(int index, object value)
    {
        _parameters.Insert(index, Cast(value));
        _byName = null;
    }

    /// <inheritdoc />
    public override void Remove(object value)
    {
        _parameters.Remove(Cast(value));
        _byName = null;
    }

    /// <inheritdoc />
    public override void RemoveAt(int index)
    {
        _parameters.RemoveAt(index);
        _byName = null;
    }

    /// <inheritdoc />
    public override void RemoveAt(string parameterName) => RemoveAt(IndexOfOrThrow(parameterName));

    /// <summary>Index of a parameter by its name without prefix, or -1.</summary>
    internal int NormalizedIndexOf(string normalizedName)
    {
        if (_parameters.Count <= 4)
        {
            for (var i = 0; i < _parameters.Count; i++)
            {
                if (string.Equals(_parameters[i].NormalizedName, normalizedName, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }

            return -1;
        }

        if (_byName is null)
        {
            _byName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < _parameters.Count; i++)
            {
                _byName.TryAdd(_parameters[i].NormalizedName, i);
            }
        }

        return _byName.TryGetValue(normalizedName, out var index) ? index : -1;
    }

    /// <summary>Invalidates the name index (a parameter was renamed).</summary>
    internal void InvalidateNames() => _byName = null;

    /// <inheritdoc />
    protected override DbParameter GetParameter(int index) => _parameters[index];

    /// <inheritdoc />
    protected override DbParameter GetParameter(string parameterName) => _parameters[IndexOfOrThrow(parameterName)];

    /// <inheritdoc />
    protected override void SetParameter(int index, DbParameter value)
    {
        _parameters[index] = Cast(value);
        _byName = null;
    }

    /// <inheritdoc />
    protected override void SetParameter(string parameterName, DbParameter value) => SetParameter(IndexOfOrThrow(parameterName), value);

    private int IndexOfOrThrow(string parameterName)
    {
        _byName = null;
        var index = IndexOf(parameterName);
        return index >= 0 ? index : throw new ArgumentException($"Parameter '{parameterName}' not found in the collection.", nameof(parameterName));
    }

    private static MySqlParameter Cast(object value) =>
        value as MySqlParameter ?? throw new ArgumentException("Only MySqlParameter objects can be added.", nameof(value));
}
