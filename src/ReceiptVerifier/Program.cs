using SmartCity.ReceiptCheck;

return ReceiptVerifierCommand.Run(args, Console.Out, Console.Error);
