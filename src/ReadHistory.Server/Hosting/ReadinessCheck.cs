namespace ReadHistory.Server.Hosting;

/// <summary>One named check of <see cref="Readiness"/>, registered in the container by the role that owns the component.</summary>
internal sealed record ReadinessCheck(string Name, Func<CancellationToken, ValueTask<bool>> IsReady);
