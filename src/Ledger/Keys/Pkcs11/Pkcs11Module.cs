using System.Reflection;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace SmartCity.Ledger.Keys.Pkcs11;

/// <summary>
/// A PKCS#11 library loaded and initialised once per process and path (a module may be initialised only once:
/// C_Initialize again answers CKR_CRYPTOKI_ALREADY_INITIALIZED), shared by reference count, finalised and unloaded
/// when its last user releases it.
/// </summary>
internal sealed class Pkcs11Module
{
    private static readonly Dictionary<string, Pkcs11Module> Loaded = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();
    private int _users;

    static Pkcs11Module()
    {
        // Pkcs11Interop loads modules with dlopen from "libdl", a name only the libc6-dev package provides on Debian 12
        // (glibc 2.34+ ships libdl.so.2, and libc itself exports dlopen); point it at what every system has.
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, ResolveLibdl);
        }
        catch (InvalidOperationException)
        {
            // Another component of the process set a resolver for Pkcs11Interop already; keep it.
        }
    }

    private Pkcs11Module(string path, IPkcs11Library library)
    {
        Path = path;
        Library = library;
    }

    public static Pkcs11InteropFactories Factories { get; } = new();

    public string Path { get; }

    public IPkcs11Library Library { get; }

    /// <summary>Loads (or shares) the module at <paramref name="path"/>; failures are <see cref="KeySourceErrorCode.ModuleUnavailable"/>.</summary>
    public static Pkcs11Module Acquire(string path)
    {
        lock (Gate)
        {
            if (!Loaded.TryGetValue(path, out var module))
            {
                if (System.IO.Path.IsPathRooted(path) && !File.Exists(path))
                {
                    throw new KeySourceException(KeySourceErrorCode.ModuleUnavailable, $"PKCS#11 module '{path}' does not exist");
                }

                IPkcs11Library library;
                try
                {
                    library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, path, AppType.MultiThreaded);
                }
                catch (Pkcs11Exception e)
                {
                    throw new KeySourceException(KeySourceErrorCode.ModuleUnavailable, $"PKCS#11 module '{path}' failed to initialise ({e.RV})", e);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new KeySourceException(KeySourceErrorCode.ModuleUnavailable, $"PKCS#11 module '{path}' cannot be loaded: {e.Message}", e);
                }

                module = new Pkcs11Module(path, library);
                Loaded.Add(path, module);
            }

            module._users++;
            return module;
        }
    }

    private static nint ResolveLibdl(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "libdl")
        {
            return 0;
        }

        return NativeLibrary.TryLoad("libdl.so.2", out var handle) || NativeLibrary.TryLoad("libc.so.6", out handle) ? handle : 0;
    }

    /// <summary>Gives up one use; the last one finalises (C_Finalize) and unloads the module.</summary>
    public void Release()
    {
        lock (Gate)
        {
            if (--_users > 0)
            {
                return;
            }

            Loaded.Remove(Path);
            Library.Dispose();
        }
    }
}
