namespace ReadHistory.Server.Hosting;

/// <summary>
/// Reads an options section again after the configuration reloaded (a rewritten file, a Secret mounted as one), for the
/// rooms that swap what they hold at run time rather than through IOptionsMonitor (whose validation would throw on the
/// file watcher's thread instead of refusing): bound and checked by the class's own <c>Validate(List&lt;string&gt;)</c>,
/// as <see cref="ProblemsValidator{T}"/> checks it at start.
/// </summary>
internal static class ReloadedOptions
{
    /// <summary>
    /// <paramref name="section"/> bound into a new <typeparamref name="T"/>; null with the problems (joined, a binding
    /// error among them) when it is not valid, so the caller keeps what is in force.
    /// </summary>
    public static T? TryRead<T>(IConfiguration configuration, string section, Action<T, List<string>> validate, out string problems)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(validate);
        var options = new T();
        var found = new List<string>();
        try
        {
            configuration.GetSection(section).Bind(options);
            validate(options, found);
        }
        catch (InvalidOperationException e)
        {
            found.Add(e.Message);
        }

        problems = string.Join("; ", found);
        return found.Count == 0 ? options : null;
    }
}
