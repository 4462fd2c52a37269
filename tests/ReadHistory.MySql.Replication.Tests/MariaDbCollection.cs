using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>One MariaDB server for the tests of this assembly that can share it (each uses its own database).</summary>
[CollectionDefinition(MariaDbFixture.Collection)]
public sealed class MariaDbCollectionDefinition : ICollectionFixture<MariaDbFixture>;
