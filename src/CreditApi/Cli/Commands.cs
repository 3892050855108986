namespace SmartCity.CreditApi.Cli;

/// <summary>The `smartcity` command tree. Each area adds its command here and keeps its code beside it.</summary>
public static class Commands
{
    public static CliCommand Root() => CliCommand.Group(
        "smartcity",
        "SmartCity.Ledger: the 3+1 (Beijing, Tianjin, Hebei, Xiong'an) consortium credit ledger node and tools",
        Demo.DemoCommand.Create(),
        NodeCommand.Create(),
        KeysCommand.Create(),
        CryptoCommand.Create(),
        ReceiptCommand.Create(),
        StoreCommand.Create(),
        VersionCommand.Create());
}
