using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Finds configuration keys under "ReadHistory" that no options property binds: the binder ignores them silently, so
/// a misspelt key (an environment variable, a ConfigMap entry) would leave its default in force without a word.
/// Walks each section against the type bound to it, as the binder does: properties of a class by name (any case),
/// list items by index, dictionary entries by any name; a value that takes one string (number, text, TimeSpan, enum)
/// has no keys below it.
/// </summary>
/// <remarks>
/// ConfigurationBinder's own <c>BinderOptions.ErrorOnUnknownConfiguration</c> stops at the first class with an unknown
/// key and names the class, not the key's path; start-up reports every problem at once, each by its full key.
/// </remarks>
internal static class UnknownKeys
{
    /// <summary>Adds a problem per unknown key below "ReadHistory", given the type bound to each of its subsections.</summary>
    public static void Find(IConfiguration configuration, IReadOnlyList<(string Section, Type Options)> sections, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(sections);
        ArgumentNullException.ThrowIfNull(problems);
        var root = configuration.GetSection(ServerOptions.Section);
        var rootProperties = BindableProperties(typeof(ServerOptions));
        foreach (var child in root.GetChildren())
        {
            var path = ServerOptions.Section + ":" + child.Key;
            var subsection = sections.FirstOrDefault(s => string.Equals(s.Section, path, StringComparison.OrdinalIgnoreCase));
            if (subsection.Options is not null)
            {
                Walk(child, subsection.Options, problems);
            }
            else if (Find(rootProperties, child.Key) is { } property)
            {
                Walk(child, property.PropertyType, problems);
            }
            else
            {
                var names = rootProperties.Select(static p => p.Name)
                    .Concat(sections.Where(static s => s.Section.StartsWith(ServerOptions.Section + ":", StringComparison.Ordinal)).Select(static s => s.Section[(ServerOptions.Section.Length + 1)..]));
                Unknown(child, names, problems);
            }
        }
    }

    private static void Walk(IConfigurationSection section, Type type, List<string> problems)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (TakesOneValue(type))
        {
            foreach (var child in section.GetChildren())
            {
                problems.Add($"{child.Path}: unknown key ({section.Key} takes a single value)");
            }

            return;
        }

        if (DictionaryValue(type) is { } value)
        {
            foreach (var child in section.GetChildren())
            {
                Walk(child, value, problems);
            }

            return;
        }

        if (ListItem(type) is { } item)
        {
            foreach (var child in section.GetChildren())
            {
                if (int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    Walk(child, item, problems);
                }
                else
                {
                    problems.Add($"{child.Path}: unknown key ({section.Key} is a list: its keys are 0, 1, 2, ...)");
                }
            }

            return;
        }

        var properties = BindableProperties(type);
        foreach (var child in section.GetChildren())
        {
            if (Find(properties, child.Key) is { } property)
            {
                Walk(child, property.PropertyType, problems);
            }
            else
            {
                Unknown(child, properties.Select(static p => p.Name), problems);
            }
        }
    }

    private static void Unknown(IConfigurationSection section, IEnumerable<string> known, List<string> problems)
    {
        var guess = Nearest(section.Key, known);
        problems.Add(guess is null ? $"{section.Path}: unknown key" : $"{section.Path}: unknown key (did you mean {guess}?)");
    }

    // What the binder converts from one string (ConfigurationBinder asks the type's TypeConverter the same question).
    private static bool TakesOneValue(Type type) =>
        type == typeof(string) || type.IsPrimitive || type.IsEnum || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    private static Type? DictionaryValue(Type type) =>
        GenericArgument(type, typeof(IDictionary<,>), 1) ?? GenericArgument(type, typeof(IReadOnlyDictionary<,>), 1);

    private static Type? ListItem(Type type) =>
        type.IsArray ? type.GetElementType() : GenericArgument(type, typeof(IEnumerable<>), 0);

    private static Type? GenericArgument(Type type, Type generic, int index)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == generic)
        {
            return type.GetGenericArguments()[index];
        }

        var match = type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == generic);
        return match?.GetGenericArguments()[index];
    }

    // Public instance properties the binder can fill: settable ones, and get-only collections or classes it fills in place.
    private static PropertyInfo[] BindableProperties(Type type) =>
        [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(static p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true }
                && (p.SetMethod is { IsPublic: true } || !TakesOneValue(Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType)))];

    private static PropertyInfo? Find(PropertyInfo[] properties, string key) =>
        properties.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The known name closest to <paramref name="key"/>: within a third of its length in edits (a typo), or else the
    /// one sharing the longest prefix of at least five letters (a wrong unit or suffix: LeaseSeconds for LeaseTime).
    /// </summary>
    internal static string? Nearest(string key, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        string? prefixed = null;
        var bestPrefix = 4;
        foreach (var name in known)
        {
            var distance = Distance(key.ToUpperInvariant(), name.ToUpperInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (name, distance);
            }

            var prefix = CommonPrefix(key, name);
            if (prefix > bestPrefix)
            {
                (prefixed, bestPrefix) = (name, prefix);
            }
        }

        return best is not null && bestDistance <= Math.Max(1, key.Length / 3) ? best : prefixed;
    }

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && char.ToUpperInvariant(a[n]) == char.ToUpperInvariant(b[n]))
        {
            n++;
        }

        return n;
    }

    // Levenshtein distance, two rows.
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
