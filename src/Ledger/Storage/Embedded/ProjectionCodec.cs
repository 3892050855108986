namespace SmartCity.Ledger.Storage.Embedded;

/// <summary>Encodes projection rows, in block records and in snapshots alike.</summary>
internal static class ProjectionCodec
{
    public static void Write(BinaryEncoder encoder, ProjectionRows rows)
    {
        WriteList(encoder, rows.CreditRecords, Write);
        WriteList(encoder, rows.Licences, Write);
        WriteList(encoder, rows.ListEntries, Write);
        WriteList(encoder, rows.Memoranda, Write);
        WriteList(encoder, rows.MeasureApplications, Write);
    }

    public static ProjectionRows Read(ref BinaryDecoder decoder)
    {
        var credit = new CreditRecordRow[BlockRecordCodec.CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < credit.Length; i++)
        {
            credit[i] = ReadCreditRecord(ref decoder);
        }

        var licences = new LicenceRow[BlockRecordCodec.CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < licences.Length; i++)
        {
            licences[i] = ReadLicence(ref decoder);
        }

        var entries = new ListEntryRow[BlockRecordCodec.CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = ReadListEntry(ref decoder);
        }

        var memoranda = new MemorandumRow[BlockRecordCodec.CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < memoranda.Length; i++)
        {
            memoranda[i] = ReadMemorandum(ref decoder);
        }

        var applications = new MeasureApplicationRow[BlockRecordCodec.CheckCount(decoder.ReadInt32())];
        for (var i = 0; i < applications.Length; i++)
        {
            applications[i] = ReadMeasureApplication(ref decoder);
        }

        return new ProjectionRows(credit, licences, entries, memoranda, applications);
    }

    public static void Write(BinaryEncoder e, CreditRecordRow row)
    {
        e.WriteString(row.RecordId);
        e.WriteString(row.Subject);
        e.WriteHash(row.TxHash);
        e.WriteInt64(row.Height);
        e.WriteInt16(row.Kind);
        e.WriteInt16(row.Status);
        e.WriteInt16(row.Severity);
        e.WriteAddress(row.DesignatingMember);
        e.WriteInt64(row.PublishedAt);
        e.WriteInt64(row.ExpiresAt);
    }

    public static CreditRecordRow ReadCreditRecord(ref BinaryDecoder d) => new(
        d.ReadString(), d.ReadString(), d.ReadHash(), d.ReadInt64(), d.ReadInt16(), d.ReadInt16(), d.ReadInt16(),
        d.ReadAddress(), d.ReadInt64(), d.ReadInt64());

    public static void Write(BinaryEncoder e, LicenceRow row)
    {
        e.WriteString(row.Identifier);
        e.WriteInt32(row.Version);
        e.WriteString(row.HolderCode);
        e.WriteInt16(row.Status);
        e.WriteAddress(row.Issuer);
        e.WriteHash(row.TxHash);
        e.WriteHash(row.PreviousTxHash);
        e.WriteInt64(row.Height);
        e.WriteInt64(row.ValidUntil);
    }

    public static LicenceRow ReadLicence(ref BinaryDecoder d) => new(
        d.ReadString(), d.ReadInt32(), d.ReadString(), d.ReadInt16(), d.ReadAddress(), d.ReadHash(), d.ReadHash(),
        d.ReadInt64(), d.ReadInt64());

    public static void Write(BinaryEncoder e, ListEntryRow row)
    {
        e.WriteString(row.EntryId);
        e.WriteString(row.Subject);
        e.WriteInt16(row.ListKind);
        e.WriteInt16(row.Status);
        e.WriteAddress(row.ListedBy);
        e.WriteHash(row.TxHash);
        e.WriteInt64(row.Height);
        e.WriteInt64(row.ListedAt);
        e.WriteInt64(row.ExpiresAt);
    }

    public static ListEntryRow ReadListEntry(ref BinaryDecoder d) => new(
        d.ReadString(), d.ReadString(), d.ReadInt16(), d.ReadInt16(), d.ReadAddress(), d.ReadHash(), d.ReadInt64(),
        d.ReadInt64(), d.ReadInt64());

    public static void Write(BinaryEncoder e, MemorandumRow row)
    {
        e.WriteString(row.MemorandumId);
        e.WriteString(row.Title);
        e.WriteAddress(row.Publisher);
        e.WriteHash(row.TxHash);
        e.WriteInt64(row.Height);
        e.WriteBytes(row.Rules.Span);
    }

    public static MemorandumRow ReadMemorandum(ref BinaryDecoder d) => new(
        d.ReadString(), d.ReadString(), d.ReadAddress(), d.ReadHash(), d.ReadInt64(), d.ReadBytes().ToArray());

    public static void Write(BinaryEncoder e, MeasureApplicationRow row)
    {
        e.WriteString(row.ApplicationId);
        e.WriteString(row.MemorandumId);
        e.WriteString(row.EntryId);
        e.WriteString(row.Subject);
        e.WriteInt16(row.Measure);
        e.WriteInt16(row.Outcome);
        e.WriteAddress(row.Implementer);
        e.WriteHash(row.TxHash);
        e.WriteInt64(row.Height);
    }

    public static MeasureApplicationRow ReadMeasureApplication(ref BinaryDecoder d) => new(
        d.ReadString(), d.ReadString(), d.ReadString(), d.ReadString(), d.ReadInt16(), d.ReadInt16(), d.ReadAddress(),
        d.ReadHash(), d.ReadInt64());

    private static void WriteList<T>(BinaryEncoder encoder, IReadOnlyList<T> rows, Action<BinaryEncoder, T> write)
    {
        encoder.WriteInt32(rows.Count);
        foreach (var row in rows)
        {
            write(encoder, row);
        }
    }
}
