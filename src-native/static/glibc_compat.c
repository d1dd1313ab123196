/* Built only with the statically linked libpq (see binding.gyp), on x86-64 and arm64 glibc.
 *
 * The static OpenSSL and libpq come from a newer glibc than many of the systems Node runs
 * on: linked as they are, they would ask for GLIBC_2.34 (pthread and dl functions, which
 * moved into libc), GLIBC_2.33 (stat, fstat), GLIBC_2.32, GLIBC_2.29 and, on arm64, 2.36.
 * Each such function is defined here (and kept local to the addon by its version script) as
 * a call to the version every glibc since the first one for the architecture exports, so the
 * binary loads wherever Node does. scripts/prebuild.sh prints the newest version the binary
 * still needs, and the tests hold it to Node 20's own floor. */
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))

#include <sys/syscall.h> /* SYS_getrandom: macros only, no declarations to clash with */

#if defined(__x86_64__)
/* the first x86-64 glibc */
#define PQNODE_GLIBC_BASE "GLIBC_2.2.5"
/* Before glibc 2.33, stat and its kin were inline wrappers around __xstat and its kin,
 * passing the layout of struct stat they expected: 1 on x86-64... */
enum { kStatVersion = 1 };
#else
/* the first arm64 glibc */
#define PQNODE_GLIBC_BASE "GLIBC_2.17"
/* ...and 0 on arm64, whose struct stat is the kernel's */
enum { kStatVersion = 0 };
#endif

#define PQNODE_OLD(name) __asm__(".symver pqnode_old_" #name "," #name "@" PQNODE_GLIBC_BASE)

/* Prototypes use void* where glibc has opaque types: the linker only sees names. */
int pqnode_old_pthread_once(void* once, void (*init)(void));
int pqnode_old_pthread_key_create(void* key, void (*destructor)(void*));
int pqnode_old_pthread_key_delete(unsigned key);
void* pqnode_old_pthread_getspecific(unsigned key);
int pqnode_old_pthread_setspecific(unsigned key, const void* value);
int pqnode_old_pthread_rwlock_init(void* lock, const void* attributes);
int pqnode_old_pthread_rwlock_destroy(void* lock);
int pqnode_old_pthread_rwlock_rdlock(void* lock);
int pqnode_old_pthread_rwlock_wrlock(void* lock);
int pqnode_old_pthread_rwlock_unlock(void* lock);
int pqnode_old_pthread_sigmask(int how, const void* set, void* old);
int pqnode_old_pthread_create(void* thread, const void* attributes, void* (*start)(void*), void* argument);
void* pqnode_old_dlopen(const char* file, int mode);
void* pqnode_old_dlsym(void* handle, const char* name);
int pqnode_old_dlclose(void* handle);
char* pqnode_old_dlerror(void);
int pqnode_old_dladdr(const void* address, void* info);
int pqnode_old___xstat(int version, const char* path, void* buffer);
int pqnode_old___fxstat(int version, int fd, void* buffer);
int pqnode_old___lxstat(int version, const char* path, void* buffer);
double pqnode_old_log(double x);

PQNODE_OLD(pthread_once);
PQNODE_OLD(pthread_key_create);
PQNODE_OLD(pthread_key_delete);
PQNODE_OLD(pthread_getspecific);
PQNODE_OLD(pthread_setspecific);
PQNODE_OLD(pthread_rwlock_init);
PQNODE_OLD(pthread_rwlock_destroy);
PQNODE_OLD(pthread_rwlock_rdlock);
PQNODE_OLD(pthread_rwlock_wrlock);
PQNODE_OLD(pthread_rwlock_unlock);
PQNODE_OLD(pthread_sigmask);
PQNODE_OLD(pthread_create);
PQNODE_OLD(dlopen);
PQNODE_OLD(dlsym);
PQNODE_OLD(dlclose);
PQNODE_OLD(dlerror);
PQNODE_OLD(dladdr);
PQNODE_OLD(__xstat);
PQNODE_OLD(__fxstat);
PQNODE_OLD(__lxstat);
PQNODE_OLD(log);

int pthread_once(void* once, void (*init)(void)) { return pqnode_old_pthread_once(once, init); }
int pthread_key_create(void* key, void (*destructor)(void*)) { return pqnode_old_pthread_key_create(key, destructor); }
int pthread_key_delete(unsigned key) { return pqnode_old_pthread_key_delete(key); }
void* pthread_getspecific(unsigned key) { return pqnode_old_pthread_getspecific(key); }
int pthread_setspecific(unsigned key, const void* value) { return pqnode_old_pthread_setspecific(key, value); }
int pthread_rwlock_init(void* lock, const void* attributes) { return pqnode_old_pthread_rwlock_init(lock, attributes); }
int pthread_rwlock_destroy(void* lock) { return pqnode_old_pthread_rwlock_destroy(lock); }
int pthread_rwlock_rdlock(void* lock) { return pqnode_old_pthread_rwlock_rdlock(lock); }
int pthread_rwlock_wrlock(void* lock) { return pqnode_old_pthread_rwlock_wrlock(lock); }
int pthread_rwlock_unlock(void* lock) { return pqnode_old_pthread_rwlock_unlock(lock); }
int pthread_sigmask(int how, const void* set, void* old) { return pqnode_old_pthread_sigmask(how, set, old); }
int pthread_create(void* thread, const void* attributes, void* (*start)(void*), void* argument) {
  return pqnode_old_pthread_create(thread, attributes, start, argument);
}
void* dlopen(const char* file, int mode) { return pqnode_old_dlopen(file, mode); }
void* dlsym(void* handle, const char* name) { return pqnode_old_dlsym(handle, name); }
int dlclose(void* handle) { return pqnode_old_dlclose(handle); }
char* dlerror(void) { return pqnode_old_dlerror(); }
int dladdr(const void* address, void* info) { return pqnode_old_dladdr(address, info); }

/* see kStatVersion above */
int stat(const char* path, void* buffer) { return pqnode_old___xstat(kStatVersion, path, buffer); }
int fstat(int fd, void* buffer) { return pqnode_old___fxstat(kStatVersion, fd, buffer); }
int lstat(const char* path, void* buffer) { return pqnode_old___lxstat(kStatVersion, path, buffer); }

/* glibc 2.29 gave log a faster body under a new version; the old one computes the same. */
double log(double x) { return pqnode_old_log(x); }

/* The C++ runtime is linked in too (Node's own libstdc++ may be older than the one it
 * was compiled with), and asks for two things of newer glibc. __libc_single_threaded
 * (2.32) lets it skip atomic operations while a process has one thread; at zero it
 * always uses them, which is always correct. arc4random (2.36) seeds std::random_device;
 * the kernel's getrandom gives the same. */
char __libc_single_threaded = 0;

long syscall(long number, ...);

unsigned arc4random(void) {
  unsigned value = 0;
  unsigned char* bytes = (unsigned char*)&value;
  unsigned long filled = 0;
  while (filled < sizeof value) {
    long got = syscall(SYS_getrandom, bytes + filled, sizeof value - filled, 0);
    if (got > 0) filled += (unsigned long)got;
  }
  return value;
}

#endif
