using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Storage;

/// <summary>The one MariaDB collection of this test assembly (every real-server test class joins it).</summary>
[CollectionDefinition(MariaDbFixture.Collection)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "xunit's collection-definition naming, as the fixture documents it")]
public sealed class MariaDbCollection : ICollectionFixture<MariaDbFixture>;
