using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;
using ReadHistory.Server.IntegrationTests.Storage;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Cache;

[Collection(MariaDbFixture.Collection)]
public sealed class ReadThroughCacheMariaDbTests(MariaDbFixture fixture)
{
    [Fact]
    public async Task On_real_storage_a_miss_reads_the_database_the_rebuild_installs_and_writes_and_forget_go_through()
    {
        await using var h = await StorageHarness.CreateAsync(fixture.Server, "cache");
        var source = new StorageHistorySource(h.Store, h.Writer);
        await using var node = new ReadThroughCache(CacheTestKit.Options(), source, TimeProvider.System, NullLogger.Instance);
        const ulong user = 42;
        var seeded = Enumerable.Range(1, 500).Select(static i => new StoredRead((ulong)i * 3, 0)).ToArray();
        await h.Writer.WriteAsync(user, 1, seeded).DefaultTimeout();
        await h.Writer.WriteAsync(user, 2, [new StoredRead(7, 0)]).DefaultTimeout();

        var (missBitmap, miss) = await CacheTestKit.CheckAsync(node, user, 1, 3, 4, 1500, 1501);
        await CacheTestKit.WaitForRebuildsAsync(node);
        await CacheTestKit.MarkReadAsync(node, user, 1, 4);
        var (hitBitmap, hit) = await CacheTestKit.CheckAsync(node, user, 1, 3, 4, 1500, 1501);
        var (otherType, _) = await CacheTestKit.CheckAsync(node, user, 2, 7);
        var removed = await node.ForgetAsync(user, passthrough: false, CancellationToken.None).DefaultTimeout();
        var (afterBitmap, after) = await CacheTestKit.CheckAsync(node, user, 1, 3);

        Assert.Equal(new CheckResult(2, CheckSource.Database), miss);
        Assert.Equal(0b0101, missBitmap[0]);
        Assert.Equal(new CheckResult(1, CheckSource.Memory), hit);
        Assert.Equal(0b0111, hitBitmap[0]);
        Assert.Equal(1, otherType[0]);
        Assert.Equal(502, removed);
        Assert.Equal(new CheckResult(1, CheckSource.Database), after);
        Assert.Equal(0, afterBitmap[0]);
        Assert.Equal(0, await h.CountWithCliAsync(user));
    }
}
