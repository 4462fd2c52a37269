using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

/// <summary>One private MariaDB for every test class of this assembly that joins the collection.</summary>
[CollectionDefinition(MariaDbFixture.Collection)]
public sealed class MariaDbCollectionDefinition : ICollectionFixture<MariaDbFixture>;
