namespace ReadHistory.Server.Storage;

/// <summary>The table engine the migrator creates history tables with.</summary>
internal enum StorageEngine
{
    /// <summary>MyRocks where the server has it (SHOW ENGINES), compressed InnoDB otherwise; TiDB defaults on TiDB.</summary>
    Auto,

    /// <summary>MyRocks (<c>ENGINE=ROCKSDB</c>) in its own column family with LZ4 / ZSTD compression.</summary>
    RocksDb,

    /// <summary>InnoDB with <c>ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8</c>.</summary>
    InnoDbCompressed,

    /// <summary>Plain InnoDB (and whatever TiDB makes of it).</summary>
    InnoDb,
}

/// <summary>The SQL dialect of the server.</summary>
internal enum StorageDialectKind
{
    /// <summary>TiDB when <c>VERSION()</c> contains "TiDB", MariaDB / MySQL otherwise.</summary>
    Auto,

    /// <summary>MariaDB (or MySQL).</summary>
    MariaDb,

    /// <summary>TiDB (D = T = 1; resource-group hints).</summary>
    TiDb,
}

/// <summary>The three connection pools, kept apart so a rebuild scan never queues a point query behind it.</summary>
internal enum StoragePool
{
    /// <summary>The blocking point query of a cache miss (latency first).</summary>
    Point,

    /// <summary>The asynchronous full rebuild scan of a user (throughput, lowest priority).</summary>
    Scan,

    /// <summary>Group-commit ingest.</summary>
    Ingest,
}
