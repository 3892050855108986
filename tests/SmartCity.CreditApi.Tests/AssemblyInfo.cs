// File modes, SoftHSM and the interop clients are Unix-only; so are these tests.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
