using System.Security.Cryptography;
using System.Text;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>The password scrambles of the authentication plugins this client speaks.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "mysql_native_password and RSA-OAEP are defined with SHA-1 by the protocol.")]
internal static class Authentication
{
    public const string NativePassword = "mysql_native_password";
    public const string CachingSha2Password = "caching_sha2_password";
    public const string ClearPassword = "mysql_clear_password";

    /// <summary>mysql_native_password: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))); empty for an empty password.</summary>
    public static byte[] NativePasswordScramble(string password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return [];
        }

        Span<byte> hash1 = stackalloc byte[20];
        Span<byte> hash2 = stackalloc byte[20];
        SHA1.HashData(Encoding.UTF8.GetBytes(password), hash1);
        SHA1.HashData(hash1, hash2);
        var input = new byte[nonce.Length + 20];
        nonce.CopyTo(input);
        hash2.CopyTo(input.AsSpan(nonce.Length));
        var hash3 = SHA1.HashData(input);
        for (var i = 0; i < 20; i++)
        {
            hash3[i] ^= hash1[i];
        }

        return hash3;
    }

    /// <summary>caching_sha2_password fast path: SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce); empty for an empty password.</summary>
    public static byte[] CachingSha2Scramble(string password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return [];
        }

        Span<byte> hash1 = stackalloc byte[32];
        Span<byte> hash2 = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(password), hash1);
        SHA256.HashData(hash1, hash2);
        var input = new byte[32 + nonce.Length];
        hash2.CopyTo(input);
        nonce.CopyTo(input.AsSpan(32));
        var hash3 = SHA256.HashData(input);
        for (var i = 0; i < 32; i++)
        {
            hash3[i] ^= hash1[i];
        }

        return hash3;
    }

    /// <summary>The password, NUL-terminated, as sent in cleartext over a secure transport.</summary>
    public static byte[] ClearPasswordBytes(string password)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(password) + 1];
        Encoding.UTF8.GetBytes(password, bytes);
        return bytes;
    }

    /// <summary>caching_sha2_password full path without TLS: RSA-OAEP(SHA1) of (password + NUL) XOR the nonce, with the server's public key.</summary>
    public static byte[] RsaEncryptPassword(string password, ReadOnlySpan<byte> nonce, string publicKeyPem)
    {
        if (nonce.Length == 0)
        {
            throw new ReplicationProtocolException("empty authentication nonce");
        }

        var data = ClearPasswordBytes(password);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] ^= nonce[i % nonce.Length];
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(publicKeyPem);
        }
        catch (ArgumentException ex)
        {
            throw new ReplicationProtocolException("the server's RSA public key could not be read", ex);
        }

        return rsa.Encrypt(data, RSAEncryptionPadding.OaepSHA1);
    }
}
