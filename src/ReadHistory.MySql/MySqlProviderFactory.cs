using System.Data.Common;

namespace ReadHistory.MySql;

/// <summary>The ADO.NET provider factory (same shape as MySqlConnector's MySqlConnectorFactory).</summary>
public sealed class MySqlProviderFactory : DbProviderFactory
{
    /// <summary>The one instance.</summary>
    public static readonly MySqlProviderFactory Instance = new();

    private MySqlProviderFactory()
    {
    }

    /// <inheritdoc />
    public override bool CanCreateDataSourceEnumerator => false;

    /// <inheritdoc />
    public override DbCommand CreateCommand() => new MySqlCommand();

    /// <inheritdoc />
    public override DbConnection CreateConnection() => new MySqlConnection();

    /// <inheritdoc />
    public override DbConnectionStringBuilder CreateConnectionStringBuilder() => new MySqlConnectionStringBuilder();

    /// <inheritdoc />
    public override DbParameter CreateParameter() => new MySqlParameter();
}
