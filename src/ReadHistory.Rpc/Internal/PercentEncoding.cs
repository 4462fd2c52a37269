using System.Text;

namespace ReadHistory.Rpc.Internal;

/// <summary>
/// The <c>grpc-message</c> encoding (PROTOCOL-HTTP2.md): the UTF-8 bytes of the message, each byte outside
/// 0x20..0x7E and '%' itself written as <c>%XX</c>. Decoding never fails: a malformed escape is kept as text.
/// </summary>
internal static class PercentEncoding
{
    private static readonly UTF8Encoding LenientUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Encodes a status message; returns the same string when nothing needs escaping.</summary>
    public static string Encode(string value)
    {
        var i = 0;
        for (; i < value.Length; i++)
        {
            if (NeedsEscape(value[i]))
            {
                break;
            }
        }

        if (i == value.Length)
        {
            return value;
        }

        var bytes = LenientUtf8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (NeedsEscape((char)b))
            {
                builder.Append('%').Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xF));
            }
            else
            {
                builder.Append((char)b);
            }
        }

        return builder.ToString();
    }

    /// <summary>Decodes a received <c>grpc-message</c>; invalid escapes stay as they were, invalid UTF-8 becomes U+FFFD.</summary>
    public static string Decode(string value)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new byte[value.Length];
        var count = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%' && i + 2 < value.Length && TryHex(value[i + 1], out var high) && TryHex(value[i + 2], out var low))
            {
                bytes[count++] = (byte)((high << 4) | low);
                i += 2;
            }
            else
            {
                // A header value is ASCII; anything else is passed on as '?' rather than dropped.
                bytes[count++] = c <= 0x7F ? (byte)c : (byte)'?';
            }
        }

        return LenientUtf8.GetString(bytes, 0, count);
    }

    private static bool NeedsEscape(char c) => c < 0x20 || c > 0x7E || c == '%';

    private static char HexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);

    private static bool TryHex(char c, out int value)
    {
        value = c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
