using System.Security.Cryptography;
using System.Text;
using SmartCity.Ledger.Crypto;

namespace SmartCity.Ledger.Domain.Identifiers;

/// <summary>
/// Turns a natural person's resident ID number into the only form that may appear on the ledger:
/// <c>HMAC-SHA256(consortium secret, "SmartCity.Ledger/subject/v1\0" ‖ normalised ID number in ASCII)</c>.
/// Without the secret (node configuration, never on the ledger) the key cannot be reversed by enumerating the
/// small space of valid ID numbers.
/// </summary>
public sealed class SubjectKeyDerivation
{
    public const int MinimumSecretLength = 32;
    private static readonly byte[] DomainTag = Encoding.ASCII.GetBytes("SmartCity.Ledger/subject/v1\0");
    private readonly byte[] _secret;

    public SubjectKeyDerivation(ReadOnlySpan<byte> consortiumSecret)
    {
        if (consortiumSecret.Length < MinimumSecretLength)
        {
            throw new ArgumentException($"the consortium secret must be at least {MinimumSecretLength} bytes", nameof(consortiumSecret));
        }

        _secret = consortiumSecret.ToArray();
    }

    public Subject Derive(ResidentIdNumber idNumber)
    {
        var message = new byte[DomainTag.Length + ResidentIdNumber.Length];
        DomainTag.CopyTo(message, 0);
        Encoding.ASCII.GetBytes(idNumber.Normalised, message.AsSpan(DomainTag.Length));
        return Subject.NaturalPerson(new Hash256(HMACSHA256.HashData(_secret, message)));
    }
}
