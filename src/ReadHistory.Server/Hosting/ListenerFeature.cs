namespace ReadHistory.Server.Hosting;

/// <summary>
/// A connection feature naming the gRPC listener the connection was accepted on, set by Kestrel connection middleware
/// (<see cref="ServerHost.ListenGrpc"/>). Kestrel exposes connection features on every request of the connection, so
/// routing reads it per call without trusting anything the client sends (the Host header, :authority).
/// </summary>
internal sealed class ListenerFeature
{
    /// <summary>The feature of connections accepted on the public listener.</summary>
    public static readonly ListenerFeature Public = new(GrpcListener.Public);

    /// <summary>The feature of connections accepted on the internal listener.</summary>
    public static readonly ListenerFeature Internal = new(GrpcListener.Internal);

    private ListenerFeature(GrpcListener listener) => Listener = listener;

    /// <summary>The listener the connection was accepted on.</summary>
    public GrpcListener Listener { get; }

    /// <summary>The shared instance for <paramref name="listener"/>.</summary>
    public static ListenerFeature For(GrpcListener listener) => listener == GrpcListener.Internal ? Internal : Public;
}
