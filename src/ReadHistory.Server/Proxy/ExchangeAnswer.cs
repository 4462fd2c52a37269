namespace ReadHistory.Server.Proxy;

/// <summary>
/// One ExchangeResponse as the proxy reads it: the request's id, its status (code, detail, retry hint, cause) and,
/// when OK, the answer's bytes (<paramref name="AnswerField"/> 6, 7 or 8: a CheckResponse, FilterResponse or
/// MarkReadResponse; 0 when absent).
/// </summary>
internal readonly record struct ExchangeAnswer(ulong Id, int StatusCode, string StatusDetail, uint RetryAfterMs, string Cause, int AnswerField, RelayedAnswer? Answer);
