using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>
/// The log entries a running host writes from now on, after its configured filters (appsettings.json's "Logging"
/// section applies to every provider, so this sees what the console would).
/// </summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message, Exception? Exception)> _entries = new();

    /// <summary>Adds a capture to <paramref name="host"/>'s logger factory (existing loggers pick it up too).</summary>
    public static LogCapture Attach(TestHost host)
    {
        var capture = new LogCapture();
        host.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(capture);
        return capture;
    }

    /// <summary>Entries at <paramref name="level"/> or above, as "Level Category: message".</summary>
    public IReadOnlyList<string> AtOrAbove(LogLevel level) =>
        [.. _entries.Where(e => e.Level >= level).Select(e => e.Level + " " + e.Category + ": " + e.Message + (e.Exception is null ? string.Empty : " (" + e.Exception.GetType().Name + ")"))];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture._entries.Enqueue((category, logLevel, formatter(state, exception), exception));
    }
}
