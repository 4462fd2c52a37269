using Microsoft.Extensions.Configuration;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Storage;

namespace ReadHistory.Benchmarks.Shared;

/// <summary>
/// Options as the server ships them: bound from its appsettings.json (copied beside the benchmarks), the one place
/// the defaults live, so a benchmark changes only what it measures.
/// </summary>
internal static class ShippedDefaults
{
    private static readonly IConfiguration Configuration = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
        .Build();

    /// <summary>ReadHistory:Database as shipped, then changed.</summary>
    public static DatabaseOptions Database(Action<DatabaseOptions>? change = null) => Get(DatabaseOptions.Section, change);

    /// <summary>ReadHistory:Cdc as shipped, then changed.</summary>
    public static CdcOptions Cdc(Action<CdcOptions>? change = null) => Get(CdcOptions.Section, change);

    /// <summary>A pool cache with the shipped rebuild settings and the given pool, budget and filter sizing.</summary>
    public static CacheOptions Cache(string pool, long budgetBytes, BloomFilterOptions filter)
    {
        var shipped = Get<CacheNodeOptions>(CacheNodeOptions.Section, change: null);
        return new CacheOptions
        {
            Pool = pool,
            BudgetBytes = budgetBytes,
            Filter = filter,
            RebuildConcurrency = shipped.RebuildConcurrency,
            RebuildRowsPerSecond = shipped.RebuildRowsPerSecond,
            RebuildMaxAttempts = shipped.RebuildMaxAttempts,
            RebuildRetryDelay = shipped.RebuildRetryDelay,
            MaxBufferedChangesPerUser = shipped.MaxBufferedChangesPerUser,
        };
    }

    private static T Get<T>(string section, Action<T>? change)
        where T : new()
    {
        var options = new T();
        Configuration.GetSection(section).Bind(options);
        change?.Invoke(options);
        return options;
    }
}
