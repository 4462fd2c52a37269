using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ReadHistory.Cli.Commands;

/// <summary>
/// <c>keys new</c>: makes a new API key and prints it once, with its SHA-256 and the configuration that puts it in force
/// (the server keeps only the hash). No call to any server.
/// </summary>
internal static class KeysCommand
{
    private const string Prefix = "rh_";
    private static readonly string[] Scopes = ["read", "write", "forget"];

    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context)
    {
        var keys = new Command("keys", "API keys of the public API (docs/operations.md, \"API keys\")");
        var create = new Command("new", "Make a new API key: prints the key (give it to the caller; it is not stored) and the server's configuration for it");
        var id = new Option<string>("--id") { Description = "The key's id: names it in configuration and logs (a-z, 0-9, '_', '-')", Required = true };
        var tenants = new Option<string[]>("--tenant")
        {
            Description = "A tenant the key may use (repeat for more; the first is its default; \"\" = the default tenant)",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var scopes = new Option<string[]>("--scopes")
        {
            Description = "Scopes, comma-separated: read (Check, Filter, BatchCheck), write (MarkRead, Ingest), forget (ForgetUser)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
            CustomParser = static result => result.Tokens.SelectMany(static t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray(),
        };
        create.Options.Add(id);
        create.Options.Add(tenants);
        create.Options.Add(scopes);
        create.SetAction(parse => New(context, parse.GetValue(id)!, parse.GetValue(tenants)!, parse.GetValue(scopes)!, parse.GetValue(context.Json)));
        keys.Subcommands.Add(create);
        return keys;
    }

    /// <summary>The SHA-256 of a key as the server is configured with it: of its UTF-8 bytes, lower-case hex.</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static int New(CliContext context, string id, string[] tenants, string[] scopes, bool json)
    {
        var bad = scopes.FirstOrDefault(static s => !Scopes.Contains(s));
        if (bad is not null || scopes.Length == 0)
        {
            context.Error.Write("error: --scopes: '" + bad + "' is not one of read, write, forget\n");
            return ExitCodes.Usage;
        }

        if (id.Length is 0 or > 64 || !id.All(IsTagCharacter) || tenants.Any(static t => t.Length > 64 || !t.All(IsTagCharacter)))
        {
            context.Error.Write("error: --id and --tenant take at most 64 of a-z, 0-9, '_' and '-'\n");
            return ExitCodes.Usage;
        }

        // 32 random bytes (256 bits), base64url: a bearer token that needs no escaping anywhere.
        var key = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var hash = HashOf(key);
        if (json)
        {
            context.Output.Write(JsonSerializer.Serialize(new { id, key, sha256 = hash, tenants, scopes }) + "\n");
            return ExitCodes.Success;
        }

        var output = new StringBuilder();
        output.Append("key:     ").Append(key).Append("   (give it to the caller; it is shown once and stored nowhere)\n");
        output.Append("sha256:  ").Append(hash).Append('\n');
        output.Append("configuration (environment variables, or files of these names in the READHISTORY_CONFIG_DIR folder):\n");
        var prefix = "ReadHistory__Auth__Keys__" + id + "__";
        output.Append("  ").Append(prefix).Append("Sha256=").Append(hash).Append('\n');
        for (var i = 0; i < tenants.Length; i++)
        {
            output.Append("  ").Append(prefix).Append("Tenants__").Append(i).Append('=').Append(tenants[i]).Append('\n');
        }

        for (var i = 0; i < scopes.Length; i++)
        {
            output.Append("  ").Append(prefix).Append("Scopes__").Append(i).Append('=').Append(scopes[i]).Append('\n');
        }

        context.Output.Write(output.ToString());
        return ExitCodes.Success;
    }

    private static bool IsTagCharacter(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-';
}
