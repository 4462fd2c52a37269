namespace ReadHistory.Core.Caching;

/// <summary>What became of one filter offered to <see cref="FilterTable.TryInstallWarm"/>.</summary>
public enum WarmStartInstallOutcome
{
    /// <summary>Installed; the pool now holds the user.</summary>
    Installed,

    /// <summary>Not installed: the user is held already (or being rebuilt), or the filter is capped. The warm start goes on.</summary>
    Skipped,

    /// <summary>Not installed: it does not fit in what is left of the budget. The warm start stops.</summary>
    BudgetFull,
}
