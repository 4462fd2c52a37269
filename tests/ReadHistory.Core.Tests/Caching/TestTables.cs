using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Tests.Caching;

/// <summary>Filter tables for tests: a 1 MiB budget and the default filter options unless told otherwise.</summary>
internal static class TestTables
{
    public static FilterTable New(long budgetBytes = 1 << 20, BloomFilterOptions? filter = null) =>
        new(budgetBytes, filter ?? BloomFilterOptions.Default);
}
