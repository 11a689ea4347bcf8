/* Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std (>= 1.78) imports on Windows.
   A stand-in over BCryptGenRandom, built by scripts/cross.mjs for the wine prefix only. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T size) {
  for (; size > 0;) {
    ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
    if (BCryptGenRandom(NULL, out, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    out += n;
    size -= n;
  }
  return TRUE;
}
