using Xunit;

namespace ReadHistory.Core.Tests;

/// <summary>
/// Tests that compare byte counts with the runtime's per-thread allocation counter run alone: a garbage collection that
/// another thread triggers inside a measured region moves this thread's counter (reproduced: a second thread allocating
/// 64 KiB arrays in a loop made an allocation-free Install count 152 bytes).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExactAllocationTests
{
    /// <summary>The collection's name.</summary>
    public const string Name = "exact allocation";
}
