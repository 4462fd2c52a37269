namespace ReadHistory.Server.Auth;

/// <summary>The scopes an API key may grant, and which one each public method needs.</summary>
internal static class ApiScopes
{
    /// <summary>Check, Filter, BatchCheck.</summary>
    public const string Read = "read";

    /// <summary>MarkRead, Ingest.</summary>
    public const string Write = "write";

    /// <summary>ForgetUser.</summary>
    public const string Forget = "forget";

    /// <summary>The scope of a method this table does not know: no key grants it, so a new method is closed until it is listed here.</summary>
    public const string Unlisted = "unlisted";

    /// <summary>Every scope a key may name.</summary>
    public static readonly IReadOnlyList<string> All = [Read, Write, Forget];

    /// <summary>The scope <c>readhistory.v1.ReadHistory/<paramref name="method"/></c> needs.</summary>
    public static string For(ReadOnlySpan<char> method) => method switch
    {
        "Check" or "Filter" or "BatchCheck" => Read,
        "MarkRead" or "Ingest" => Write,
        "ForgetUser" => Forget,
        _ => Unlisted,
    };
}
