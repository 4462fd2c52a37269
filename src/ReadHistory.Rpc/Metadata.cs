using System.Collections;
using System.Text;

namespace ReadHistory.Rpc;

/// <summary>
/// Custom metadata (request headers, response headers or trailers): an ordered list of key/value entries.
/// Keys are lower-case <c>[a-z0-9._-]</c>; a key ending in <c>-bin</c> carries bytes (base64 on the wire),
/// any other key carries printable ASCII.
/// </summary>
public sealed class Metadata : IList<Metadata.Entry>
{
    /// <summary>The suffix that marks a binary key.</summary>
    public const string BinaryHeaderSuffix = "-bin";

    /// <summary>An empty, read-only instance.</summary>
    public static readonly Metadata Empty = new Metadata().Freeze();

    private readonly List<Entry> _entries = [];
    private bool _readOnly;

    /// <inheritdoc />
    public int Count => _entries.Count;

    /// <inheritdoc />
    public bool IsReadOnly => _readOnly;

    /// <inheritdoc />
    public Entry this[int index]
    {
        get => _entries[index];
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            CheckWritable();
            _entries[index] = value;
        }
    }

    /// <summary>Adds an ASCII entry.</summary>
    public void Add(string key, string value) => Add(new Entry(key, value));

    /// <summary>Adds a binary entry; the key must end in <c>-bin</c>.</summary>
    public void Add(string key, byte[] valueBytes) => Add(new Entry(key, valueBytes));

    /// <inheritdoc />
    public void Add(Entry item)
    {
        ArgumentNullException.ThrowIfNull(item);
        CheckWritable();
        _entries.Add(item);
    }

    /// <summary>The last entry with this key, or null.</summary>
    public Entry? Get(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key.Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                return _entries[i];
            }
        }

        return null;
    }

    /// <summary>The string value of the last entry with this ASCII key, or null.</summary>
    public string? GetValue(string key)
    {
        var entry = Get(key);
        if (entry is not null && entry.IsBinary)
        {
            throw new InvalidOperationException($"the key {key} is binary: use GetValueBytes");
        }

        return entry?.Value;
    }

    /// <summary>The bytes of the last entry with this binary key, or null.</summary>
    public byte[]? GetValueBytes(string key)
    {
        var entry = Get(key);
        if (entry is not null && !entry.IsBinary)
        {
            throw new InvalidOperationException($"the key {key} is not binary: use GetValue");
        }

        return entry?.ValueBytes;
    }

    /// <summary>Every entry with this key, in order.</summary>
    public IEnumerable<Entry> GetAll(string key)
    {
        foreach (var entry in _entries)
        {
            if (entry.Key.Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                yield return entry;
            }
        }
    }

    /// <inheritdoc />
    public int IndexOf(Entry item) => _entries.IndexOf(item);

    /// <inheritdoc />
    public void Insert(int index, Entry item)
    {
        ArgumentNullException.ThrowIfNull(item);
        CheckWritable();
        _entries.Insert(index, item);
    }

    /// <inheritdoc />
    public void RemoveAt(int index)
    {
        CheckWritable();
        _entries.RemoveAt(index);
    }

    /// <inheritdoc />
    public void Clear()
    {
        CheckWritable();
        _entries.Clear();
    }

    /// <inheritdoc />
    public bool Contains(Entry item) => _entries.Contains(item);

    /// <inheritdoc />
    public void CopyTo(Entry[] array, int arrayIndex) => _entries.CopyTo(array, arrayIndex);

    /// <inheritdoc />
    public bool Remove(Entry item)
    {
        CheckWritable();
        return _entries.Remove(item);
    }

    /// <inheritdoc />
    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    /// <summary>Makes this instance read-only and returns it.</summary>
    internal Metadata Freeze()
    {
        _readOnly = true;
        return this;
    }

    private void CheckWritable()
    {
        if (_readOnly)
        {
            throw new InvalidOperationException("this metadata is read-only");
        }
    }

    /// <summary>One key/value pair.</summary>
    public sealed class Entry
    {
        private readonly string? _value;
        private readonly byte[]? _valueBytes;

        /// <summary>Creates an ASCII entry; the value must be printable ASCII (0x20..0x7E).</summary>
        public Entry(string key, string value)
        {
            ArgumentNullException.ThrowIfNull(value);
            Key = NormalizeKey(key);
            if (IsBinaryKey(Key))
            {
                throw new ArgumentException($"the key {Key} ends in -bin: give its value as bytes", nameof(key));
            }

            foreach (var c in value)
            {
                if (c < 0x20 || c > 0x7E)
                {
                    throw new ArgumentException($"the value of {Key} must be printable ASCII; use a -bin key for other bytes", nameof(value));
                }
            }

            _value = value;
        }

        /// <summary>Creates a binary entry; the key must end in <c>-bin</c>.</summary>
        public Entry(string key, byte[] valueBytes)
        {
            ArgumentNullException.ThrowIfNull(valueBytes);
            Key = NormalizeKey(key);
            if (!IsBinaryKey(Key))
            {
                throw new ArgumentException($"a binary value needs a key ending in -bin, not {Key}", nameof(key));
            }

            _valueBytes = valueBytes;
        }

        /// <summary>The lower-case key.</summary>
        public string Key { get; }

        /// <summary>True for a <c>-bin</c> key.</summary>
        public bool IsBinary => _valueBytes is not null;

        /// <summary>The value of an ASCII entry.</summary>
        public string Value => _value ?? throw new InvalidOperationException($"{Key} is binary: read ValueBytes");

        /// <summary>The bytes of the value: the bytes themselves for a binary entry, the ASCII bytes otherwise.</summary>
        public byte[] ValueBytes => _valueBytes ?? Encoding.ASCII.GetBytes(_value!);

        /// <inheritdoc />
        public override string ToString() =>
            IsBinary ? $"[Entry: key={Key}, valueBytes={Convert.ToBase64String(_valueBytes!)}]" : $"[Entry: key={Key}, value={_value}]";

        internal static bool IsBinaryKey(string key) => key.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal);

        internal static bool IsValidKey(string lowerCaseKey)
        {
            if (lowerCaseKey.Length == 0)
            {
                return false;
            }

            foreach (var c in lowerCaseKey)
            {
                if (!IsKeyChar(c))
                {
                    return false;
                }
            }

            return true;
        }

        private static bool IsKeyChar(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.';

        private static string NormalizeKey(string key)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            var lower = key.ToLowerInvariant();
            if (!IsValidKey(lower))
            {
                throw new ArgumentException($"metadata key {key} may hold only a-z, 0-9, '-', '_' and '.'", nameof(key));
            }

            return lower;
        }
    }
}
