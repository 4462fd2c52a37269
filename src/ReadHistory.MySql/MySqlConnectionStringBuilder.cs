using System.Data.Common;
using System.Globalization;

namespace ReadHistory.MySql;

/// <summary>How the connection uses TLS (same names and meaning as MySqlConnector's MySqlSslMode).</summary>
public enum MySqlSslMode
{
    /// <summary>Never use TLS.</summary>
    None,

    /// <summary>Use TLS when the server offers it; accept any certificate.</summary>
    Preferred,

    /// <summary>Require TLS; accept any certificate.</summary>
    Required,

    /// <summary>Require TLS and a certificate chain to the CA in <see cref="MySqlConnectionStringBuilder.SslCa"/> (host name not checked).</summary>
    VerifyCA,

    /// <summary>Require TLS, a chain to the CA and a certificate whose name matches the server host.</summary>
    VerifyFull,
}

/// <summary>
/// Connection string keys and synonyms of MySqlConnector (Server, Port, User ID, Password, Database, SslMode, SslCa,
/// Pooling, pool sizes, timeouts, AllowPublicKeyRetrieval, Connection Reset, ...). Keys are case-insensitive; an
/// unknown key throws <see cref="ArgumentException"/>. A Server that starts with '/' is a Unix socket path.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1010", Justification = "Same shape as DbConnectionStringBuilder and MySqlConnector's builder.")]
public sealed class MySqlConnectionStringBuilder : DbConnectionStringBuilder
{
    private static readonly Dictionary<string, Option> OptionsByName = BuildOptions();

    /// <summary>Creates an empty builder (every option at its default).</summary>
    public MySqlConnectionStringBuilder()
    {
    }

    /// <summary>Creates a builder from a connection string.</summary>
    public MySqlConnectionStringBuilder(string connectionString)
    {
        ConnectionString = connectionString;
    }

    /// <summary>Host name, IP address, or Unix socket path (starts with '/'). Synonyms: Host, Data Source.</summary>
    public string Server { get => (string)this["Server"]; set => this["Server"] = value; }

    /// <summary>TCP port (default 3306).</summary>
    public uint Port { get => (uint)this["Port"]; set => this["Port"] = value; }

    /// <summary>User name. Synonyms: UserID, Username, Uid, User.</summary>
    public string UserID { get => (string)this["User ID"]; set => this["User ID"] = value; }

    /// <summary>Password. Synonym: Pwd.</summary>
    public string Password { get => (string)this["Password"]; set => this["Password"] = value; }

    /// <summary>Default database. Synonym: Initial Catalog.</summary>
    public string Database { get => (string)this["Database"]; set => this["Database"] = value; }

    /// <summary>TLS mode (default Preferred).</summary>
    public MySqlSslMode SslMode { get => (MySqlSslMode)this["SSL Mode"]; set => this["SSL Mode"] = value; }

    /// <summary>Path of a PEM file with the CA certificate(s) for VerifyCA / VerifyFull.</summary>
    public string SslCa { get => (string)this["SSL CA"]; set => this["SSL CA"] = value; }

    /// <summary>Whether connections are pooled (default true).</summary>
    public bool Pooling { get => (bool)this["Pooling"]; set => this["Pooling"] = value; }

    /// <summary>Connections the pool keeps open even when idle (default 0).</summary>
    public uint MinimumPoolSize { get => (uint)this["Minimum Pool Size"]; set => this["Minimum Pool Size"] = value; }

    /// <summary>Most connections the pool opens (default 100).</summary>
    public uint MaximumPoolSize { get => (uint)this["Maximum Pool Size"]; set => this["Maximum Pool Size"] = value; }

    /// <summary>Seconds to wait for a connection to open or for a pooled connection (default 15).</summary>
    public uint ConnectionTimeout { get => (uint)this["Connection Timeout"]; set => this["Connection Timeout"] = value; }

    /// <summary>Seconds a command may wait for the server before it is cancelled (default 30; 0 = no limit).</summary>
    public uint DefaultCommandTimeout { get => (uint)this["Default Command Timeout"]; set => this["Default Command Timeout"] = value; }

    /// <summary>Whether caching_sha2_password may ask the server for its RSA public key (default false).</summary>
    public bool AllowPublicKeyRetrieval { get => (bool)this["Allow Public Key Retrieval"]; set => this["Allow Public Key Retrieval"] = value; }

    /// <summary>Seconds an idle pooled connection is kept before it is closed (default 180).</summary>
    public uint ConnectionIdleTimeout { get => (uint)this["Connection Idle Timeout"]; set => this["Connection Idle Timeout"] = value; }

    /// <summary>Whether a pooled connection's session state is reset (COM_RESET_CONNECTION) when it is returned (default true).</summary>
    public bool ConnectionReset { get => (bool)this["Connection Reset"]; set => this["Connection Reset"] = value; }

    /// <summary>Whether <c>Prepare()</c> is ignored (MySqlConnector's IgnorePrepare; default false).</summary>
    public bool IgnorePrepare { get => (bool)this["Ignore Prepare"]; set => this["Ignore Prepare"] = value; }

    /// <summary>
    /// ReadHistory extension (MySqlConnector has no such key): commands with parameters use server-side prepared
    /// statements (cached per connection) without an explicit <c>Prepare()</c> (default false).
    /// </summary>
    public bool AutoPrepare { get => (bool)this["Auto Prepare"]; set => this["Auto Prepare"] = value; }

    /// <summary>Whether TINYINT(1) columns read as bool (default true, as in MySqlConnector).</summary>
    public bool TreatTinyAsBoolean { get => (bool)this["Treat Tiny As Boolean"]; set => this["Treat Tiny As Boolean"] = value; }

    /// <summary>Accepted for compatibility: an @name that is no parameter is always left in the SQL as a user variable.</summary>
    public bool AllowUserVariables { get => (bool)this["Allow User Variables"]; set => this["Allow User Variables"] = value; }

    /// <summary>Whether UPDATE reports changed rows instead of matched rows (default false: CLIENT_FOUND_ROWS).</summary>
    public bool UseAffectedRows { get => (bool)this["Use Affected Rows"]; set => this["Use Affected Rows"] = value; }

    /// <summary>Whether a zero date (0000-00-00) reads as DateTime.MinValue instead of throwing (default false).</summary>
    public bool ConvertZeroDateTime { get => (bool)this["Convert Zero DateTime"]; set => this["Convert Zero DateTime"] = value; }

    /// <summary>Whether the server is reached through a Unix socket (Server starts with '/').</summary>
    internal bool IsUnixSocket => Server.StartsWith('/');

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override object this[string keyword]
    {
        get
        {
            var option = GetOption(keyword);
            return base.TryGetValue(option.Key, out var value) && value is not null ? option.Convert(value) : option.Default;
        }
        set
        {
            var option = GetOption(keyword);
            if (value is null)
            {
                base.Remove(option.Key);
            }
            else
            {
                base[option.Key] = option.Convert(value);
            }
        }
    }

    /// <inheritdoc />
    public override bool ContainsKey(string keyword) =>
        OptionsByName.TryGetValue(keyword, out var option) && base.ContainsKey(option.Key);

    /// <inheritdoc />
    public override bool Remove(string keyword) =>
        OptionsByName.TryGetValue(keyword, out var option) && base.Remove(option.Key);

    /// <inheritdoc />
    public override bool ShouldSerialize(string keyword) =>
        OptionsByName.TryGetValue(keyword, out var option) && base.ShouldSerialize(option.Key);

    /// <inheritdoc />
    public override bool TryGetValue(string keyword, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out object? value)
    {
        if (!OptionsByName.TryGetValue(keyword, out var option))
        {
            value = null;
            return false;
        }

        value = this[option.Key];
        return true;
    }

    /// <summary>A copy with the same settings.</summary>
    internal MySqlConnectionStringBuilder Clone() => new(ConnectionString);

    private static Option GetOption(string keyword) =>
        OptionsByName.TryGetValue(keyword, out var option) ? option : throw new ArgumentException($"Option '{keyword}' not supported.", nameof(keyword));

    private static Dictionary<string, Option> BuildOptions()
    {
        var options = new Dictionary<string, Option>(StringComparer.OrdinalIgnoreCase);
        void Add(Option option, params string[] synonyms)
        {
            options.Add(option.Key, option);
            options.TryAdd(option.Key.Replace(" ", string.Empty, StringComparison.Ordinal), option);
            foreach (var synonym in synonyms)
            {
                options.TryAdd(synonym, option);
            }
        }

        Add(Option.String("Server", string.Empty), "Host", "Data Source", "DataSource", "Address", "Addr", "Network Address");
        Add(Option.UInt("Port", 3306));
        Add(Option.String("User ID", string.Empty), "UserID", "Username", "Uid", "User name", "User");
        Add(Option.String("Password", string.Empty), "Pwd");
        Add(Option.String("Database", string.Empty), "Initial Catalog");
        Add(new Option("SSL Mode", MySqlSslMode.Preferred, static value => value is MySqlSslMode mode ? mode : ParseSslMode(value.ToString()!)), "SslMode");
        Add(Option.String("SSL CA", string.Empty), "SslCa", "CACertificateFile", "CA Certificate File");
        Add(Option.Bool("Pooling", true));
        Add(Option.UInt("Minimum Pool Size", 0), "Min Pool Size", "MinPoolSize", "MinimumPoolsize");
        Add(Option.UInt("Maximum Pool Size", 100), "Max Pool Size", "MaxPoolSize", "MaximumPoolsize");
        Add(Option.UInt("Connection Timeout", 15), "Connect Timeout", "ConnectionTimeout", "ConnectTimeout");
        Add(Option.UInt("Default Command Timeout", 30), "Command Timeout", "DefaultCommandTimeout", "CommandTimeout");
        Add(Option.Bool("Allow Public Key Retrieval", false), "AllowPublicKeyRetrieval");
        Add(Option.UInt("Connection Idle Timeout", 180), "ConnectionIdleTimeout");
        Add(Option.Bool("Connection Reset", true), "ConnectionReset");
        Add(Option.Bool("Ignore Prepare", false), "IgnorePrepare");
        Add(Option.Bool("Auto Prepare", false), "AutoPrepare");
        Add(Option.Bool("Treat Tiny As Boolean", true), "TreatTinyAsBoolean");
        Add(Option.Bool("Allow User Variables", false), "AllowUserVariables");
        Add(Option.Bool("Use Affected Rows", false), "UseAffectedRows");
        Add(Option.Bool("Convert Zero DateTime", false), "ConvertZeroDateTime");
        return options;
    }

    private static MySqlSslMode ParseSslMode(string value) => value.Trim().ToUpperInvariant() switch
    {
        "NONE" or "DISABLED" => MySqlSslMode.None,
        "PREFERRED" => MySqlSslMode.Preferred,
        "REQUIRED" => MySqlSslMode.Required,
        "VERIFYCA" or "VERIFY_CA" => MySqlSslMode.VerifyCA,
        "VERIFYFULL" or "VERIFY_IDENTITY" => MySqlSslMode.VerifyFull,
        _ => throw new ArgumentException($"Value '{value}' not supported for option 'SslMode'.", nameof(value)),
    };

    private sealed record Option(string Key, object Default, Func<object, object> Convert)
    {
        public static Option String(string key, string defaultValue) => new(key, defaultValue, static value => System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty);

        public static Option UInt(string key, uint defaultValue) => new(key, defaultValue, static value => value switch
        {
            uint u => u,
            string s => uint.Parse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture),
            _ => System.Convert.ToUInt32(value, CultureInfo.InvariantCulture),
        });

        public static Option Bool(string key, bool defaultValue) => new(key, defaultValue, static value => value switch
        {
            bool b => b,
            string s => s.Trim().ToUpperInvariant() switch
            {
                "TRUE" or "YES" or "1" or "ON" => true,
                "FALSE" or "NO" or "0" or "OFF" => false,
                _ => throw new ArgumentException($"'{s}' is not a boolean.", nameof(value)),
            },
            _ => System.Convert.ToBoolean(value, CultureInfo.InvariantCulture),
        });
    }
}
