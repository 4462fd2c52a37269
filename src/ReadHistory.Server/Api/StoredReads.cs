using ReadHistory.Api.V1;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Api;

/// <summary>Turns a validated MarkRead request into the rows the storage layer writes.</summary>
internal static class StoredReads
{
    /// <summary>The request's items as rows, and how many distinct content ids they hold (what MarkRead reports as written).</summary>
    public static StoredRead[] From(MarkReadRequest request, out int distinct)
    {
        var items = new StoredRead[request.Items.Count];
        var ids = new HashSet<ulong>();
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = new StoredRead(request.Items[i].ContentId, request.Items[i].ReadAtMs);
            ids.Add(request.Items[i].ContentId);
        }

        distinct = ids.Count;
        return items;
    }
}
