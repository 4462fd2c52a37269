namespace ReadHistory.MySql.Protocol;

/// <summary>A statement prepared on one session (COM_STMT_PREPARE): its id, parameter order and column count.</summary>
internal sealed class PreparedStatement
{
    public required uint StatementId { get; init; }

    public required int ParameterCount { get; init; }

    public required int ColumnCount { get; init; }

    /// <summary>For each '?' of the prepared SQL, the parameter it stands for (name or position).</summary>
    public required IReadOnlyList<ParameterReference> Parameters { get; init; }
}

/// <summary>A placeholder in SQL text: a named parameter (@name, ?name) or the n-th positional '?'.</summary>
internal readonly record struct ParameterReference(string? Name, int Position);
