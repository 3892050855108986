using SmartCity.ReceiptVerifier;

return ReceiptVerifierCommand.Run(args, Console.Out, Console.Error);
