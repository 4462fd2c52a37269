using System.Buffers;
using Grpc.Core;
using ReadHistory.Api.V1;

using ReadHistory.Server.Api.Admission;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// A public BatchCheck kept as the client's bytes in a pooled buffer: each entry (field 1, a CheckRequest) located by its
/// byte range, its routing and validation fields read in place (<see cref="ForwardedRequestReader"/>), sent on inside
/// each slot's internal request (<see cref="BatchSlotRequest"/>) without being decoded. It also carries its answer:
/// every entry's outcome, written to the client in request order (<see cref="WriteAnswerTo"/>).
/// <code>
///   BatchCheckRequest:  [ 0x0A len entry ]* [ 0x12 len tenant ] (any order, unknown fields between)
///                                  ^ Start, Length of a <see cref="BatchEntry"/>
/// </code>
/// </summary>
internal sealed partial class ForwardedBatch : IBatchEntries
{
    private readonly int _length;
    private byte[]? _buffer;
    private BatchEntry[] _entries = new BatchEntry[16];
    // Set by a slot whose walk failed: an abandoned attempt may still be copying the client's bytes.
    private volatile bool _abandoned;

    private ForwardedBatch(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    /// <inheritdoc />
    public string Tenant { get; internal set; } = string.Empty;

    /// <inheritdoc />
    public int Count { get; private set; }

    /// <summary>Content ids in all entries.</summary>
    public long Ids { get; private set; }

    /// <summary>
    /// The decoded request when the reader met something it does not follow (a group, a malformed field) and the
    /// generated parser accepted the bytes anyway: the call then takes the decoding path. Null on the usual path.
    /// </summary>
    public BatchCheckRequest? Decoded { get; internal set; }

    /// <summary>The decoding path's answer to <see cref="Decoded"/>, written to the client instead of the entries' outcomes.</summary>
    public BatchCheckResponse? DecodedAnswer { get; set; }

    /// <summary>The client's bytes as an array segment (CodedInputStream reads arrays in place).</summary>
    public (byte[] Buffer, int Offset, int Length) PayloadSegment => (_buffer ?? throw new ObjectDisposedException(nameof(ForwardedBatch)), 0, _length);

    /// <summary>Entry <paramref name="index"/>'s fields as read from its bytes.</summary>
    public CheckFields FieldsOf(int index) => Entry(index).Fields;

    /// <summary>Entry <paramref name="index"/>'s CheckRequest bytes, as the client sent them.</summary>
    public ReadOnlySpan<byte> EntryBytes(int index)
    {
        ref readonly var entry = ref Entry(index);
        return (_buffer ?? throw new ObjectDisposedException(nameof(ForwardedBatch))).AsSpan(entry.Start, entry.Length);
    }

    /// <summary>Copies a received payload into a pooled buffer.</summary>
    public static ForwardedBatch Copy(ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        payload.CopyTo(buffer);
        return new ForwardedBatch(buffer, length);
    }

    /// <summary>Adds the entry whose bytes are <paramref name="length"/> bytes from <paramref name="start"/>.</summary>
    internal void Add(int start, int length, CheckFields fields)
    {
        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, Count * 2);
        }

        _entries[Count++] = new BatchEntry { Start = start, Length = length, Fields = fields };
        Ids += fields.Count;
    }

    /// <summary>Forgets the entries read so far (the generated parser reads the request instead).</summary>
    internal void ClearEntries()
    {
        Count = 0;
        Ids = 0;
    }

    /// <inheritdoc />
    public bool IsAnswered(int index) => Entry(index).Answered;

    /// <inheritdoc />
    public string TenantOf(int index) => Entry(index).Fields.Tenant is { Length: > 0 } tenant ? tenant : Tenant;

    /// <inheritdoc />
    public ulong UserOf(int index) => Entry(index).Fields.UserId;

    /// <inheritdoc />
    public int IdsOf(int index) => Entry(index).Fields.Count;

    /// <inheritdoc />
    public void Fail(int index, StatusCode code, string message)
    {
        ref var entry = ref Entry(index);
        entry.Answered = true;
        entry.Answer = null;
        entry.Code = (int)code;
        entry.Message = message;
    }

    /// <inheritdoc />
    public async Task<int> CheckSlotAsync(ProxyBackend backend, SlotRoute slot, List<int> members, DateTime deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(members);
        RelayedBatch answer;
        try
        {
            answer = await backend.RouteAsync(CallClass.Batch, ForwardingMethods.NodeBatchCheck, new BatchSlotRequest(this, members), BatchSlotRequest.SetPassthrough, slot, UserOf(members[0]), deadline, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _abandoned = true;
            throw;
        }

        for (var k = 0; k < members.Count && k < answer.Count; k++)
        {
            Answer(members[k], answer, k);
        }

        return answer.Count;
    }

    /// <summary>Gives entry <paramref name="index"/> result <paramref name="result"/> of a node's answer as its outcome.</summary>
    internal void Answer(int index, RelayedBatch answer, int result)
    {
        ref var entry = ref Entry(index);
        entry.Answered = true;
        entry.Answer = answer;
        entry.Result = result;
    }

    /// <summary>
    /// Returns the client's bytes to the pool unless a slot's walk failed (an abandoned attempt may still be copying them;
    /// they are then left to the collector). Called once the answer is written, or when the call is refused before any
    /// slot was sent.
    /// </summary>
    public void Release()
    {
        if (_abandoned)
        {
            return;
        }

        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ref BatchEntry Entry(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return ref _entries[index];
    }
}
