using Microsoft.Extensions.Options;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Auth;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Proxy;
using ReadHistory.Server.Storage;
using ReadHistory.Server.Tls;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Binds every room's options class to its section and validates them all once, at start, whatever the roles (so a
/// proxy's settings are checked on a cache node too, and a bad key never waits for the first call to surface).
/// </summary>
internal static class ServerOptionsRegistration
{
    /// <summary>
    /// The subsections of "ReadHistory" and the options class each binds to (the top-level keys bind to
    /// <see cref="ServerOptions"/>): what <see cref="UnknownKeys"/> checks keys against. Keep in step with
    /// <see cref="AddServerOptions"/>.
    /// </summary>
    public static readonly IReadOnlyList<(string Section, Type Options)> Sections =
    [
        (RequestLimits.Section, typeof(RequestLimits)),
        (DatabaseOptions.Section, typeof(DatabaseOptions)),
        (CacheNodeOptions.Section, typeof(CacheNodeOptions)),
        (RedisOptions.Section, typeof(RedisOptions)),
        (CdcOptions.Section, typeof(CdcOptions)),
        (TopologyOptions.Section, typeof(TopologyOptions)),
        (ProxyOptions.Section, typeof(ProxyOptions)),
        (AdmissionOptions.Section, typeof(AdmissionOptions)),
        (ConnectionLimits.Section, typeof(ConnectionLimits)),
        (AuthOptions.Section, typeof(AuthOptions)),
        (InternalTlsOptions.Section, typeof(InternalTlsOptions)),
    ];

    /// <summary>Registers the options of every room, each bound to its section and validated on start.</summary>
    public static IServiceCollection AddServerOptions(this IServiceCollection services)
    {
        Bind<ServerOptions>(services, ServerOptions.Section);
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        Add<RequestLimits>(services, RequestLimits.Section, static (o, p) => o.Validate(p));
        Add<DatabaseOptions>(services, DatabaseOptions.Section, static (o, p) => o.Validate(p));
        Add<CacheNodeOptions>(services, CacheNodeOptions.Section, static (o, p) => o.Validate(p));
        Add<RedisOptions>(services, RedisOptions.Section, static (o, p) => o.Validate(p));
        Add<CdcOptions>(services, CdcOptions.Section, static (o, p) => o.Validate(p));
        Add<TopologyOptions>(services, TopologyOptions.Section, static (o, p) => o.Validate(p));
        Add<ProxyOptions>(services, ProxyOptions.Section, static (o, p) => o.Validate(p));
        Add<AdmissionOptions>(services, AdmissionOptions.Section, static (o, p) => o.Validate(p));
        Add<ConnectionLimits>(services, ConnectionLimits.Section, static (o, p) => o.Validate(p));
        Add<AuthOptions>(services, AuthOptions.Section, static (o, p) => o.Validate(p));
        Add<InternalTlsOptions>(services, InternalTlsOptions.Section, static (o, p) => o.Validate(p));
        return services;
    }

    /// <summary>
    /// Binds and validates every room's options from <paramref name="configuration"/> and returns every problem, each
    /// naming its key; a value that does not bind at all (a word where a number belongs) is a problem too, and so is a
    /// key under "ReadHistory" that binds to nothing (<see cref="UnknownKeys"/>). Run before the host is built:
    /// building it already reads some options (shutdown timeout, Kestrel), and the first options class to fail would
    /// otherwise hide the problems of the others.
    /// </summary>
    public static IReadOnlyList<string> Problems(IConfiguration configuration)
    {
        var problems = new List<string>();
        UnknownKeys.Find(configuration, Sections, problems);
        problems.AddRange(ValidationProblems(configuration));
        InternalSchemeProblems(configuration, problems);
        return problems;
    }

    // With mutual TLS on the internal port, an http:// replica would be called in cleartext and refused by every node.
    private static void InternalSchemeProblems(IConfiguration configuration, List<string> problems)
    {
        if (string.IsNullOrEmpty(configuration[InternalTlsOptions.Section + ":CertificatePath"]))
        {
            return;
        }

        foreach (var replica in configuration.GetSection(TopologyOptions.Section + ":Pools").AsEnumerable())
        {
            if (replica.Value is { Length: > 0 } value && replica.Key.Contains(":Replicas:", StringComparison.Ordinal)
                && value.StartsWith(Uri.UriSchemeHttp + ":", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{replica.Key}: '{value}' is http://, but {InternalTlsOptions.Section} is set: internal addresses are https://");
            }
        }
    }

    private static List<string> ValidationProblems(IConfiguration configuration)
    {
        using var services = new ServiceCollection().AddSingleton(configuration).AddServerOptions().BuildServiceProvider();
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            return [];
        }
        catch (OptionsValidationException e)
        {
            return [.. e.Failures];
        }
        catch (AggregateException e)
        {
            var problems = new List<string>();
            foreach (var inner in e.InnerExceptions)
            {
                if (inner is OptionsValidationException validation)
                {
                    problems.AddRange(validation.Failures);
                }
                else
                {
                    problems.Add(inner.Message);
                }
            }

            return problems;
        }
        catch (InvalidOperationException e)
        {
            return [e.Message];
        }
    }

    private static void Add<T>(IServiceCollection services, string section, Action<T, List<string>> validate)
        where T : class
    {
        Bind<T>(services, section);
        services.AddSingleton<IValidateOptions<T>>(new ProblemsValidator<T>(validate));
    }

    // Bound once, without a change-token source (unlike BindConfiguration): options are read at start and never
    // re-bound on a configuration reload, so a bad reload cannot fail validation behind a running host. The one value
    // reloaded while running, the topology, is re-read and checked by the proxy's router itself (a bad reload is
    // refused and logged, the old table stays).
    private static void Bind<T>(IServiceCollection services, string section)
        where T : class =>
        services.AddOptions<T>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(section).Bind(options))
            .ValidateOnStart();
}
