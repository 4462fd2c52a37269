using Microsoft.Extensions.Options;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Validates an options class by its own <c>Validate(List&lt;string&gt;)</c>, whose problems each name their key
/// ("ReadHistory:Cache:BudgetBytes: ... is below 1 MiB"): the room keeps its bounds beside its settings, the host
/// runs them once at start.
/// </summary>
internal sealed class ProblemsValidator<T>(Action<T, List<string>> validate) : IValidateOptions<T>
    where T : class
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var problems = new List<string>();
        validate(options, problems);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
