using Microsoft.Extensions.Configuration;
using ReadHistory.Server.Api;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Proxy;
using ReadHistory.Server.Storage;

namespace ReadHistory.TestSupport.Server;

/// <summary>
/// Options as the server ships them: bound from its appsettings.json (copied beside the tests), the one place the
/// defaults live, so a test changes only what it is about.
/// </summary>
internal static class ShippedDefaults
{
    private static readonly IConfiguration Configuration = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
        .Build();

    /// <summary>The section <paramref name="section"/> bound into a new <typeparamref name="T"/>, then <paramref name="change"/>d.</summary>
    public static T Get<T>(string section, Action<T>? change = null)
        where T : new()
    {
        var options = new T();
        Configuration.GetSection(section).Bind(options);
        change?.Invoke(options);
        return options;
    }

    /// <summary>ReadHistory:Database as shipped, then changed.</summary>
    public static DatabaseOptions Database(Action<DatabaseOptions>? change = null) => Get(DatabaseOptions.Section, change);

    /// <summary>ReadHistory:Cache as shipped, then changed.</summary>
    public static CacheNodeOptions Cache(Action<CacheNodeOptions>? change = null) => Get(CacheNodeOptions.Section, change);

    /// <summary>ReadHistory:Cdc as shipped, then changed.</summary>
    public static CdcOptions Cdc(Action<CdcOptions>? change = null) => Get(CdcOptions.Section, change);

    /// <summary>ReadHistory:Proxy as shipped, then changed.</summary>
    public static ProxyOptions Proxy(Action<ProxyOptions>? change = null) => Get(ProxyOptions.Section, change);

    /// <summary>ReadHistory:Limits as shipped, then changed.</summary>
    public static RequestLimits Limits(Action<RequestLimits>? change = null) => Get(RequestLimits.Section, change);
}
