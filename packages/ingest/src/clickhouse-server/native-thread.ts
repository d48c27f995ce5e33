import { Socket } from 'node:net'
import koffi from 'koffi'

/**
 * Runs a C function shaped `T f(int argc, char **argv)` on a thread whose stack
 * is ordinary memory that the thread library knows about, and resolves when it
 * returns (its return value is not available).
 *
 * Why not a plain koffi call: koffi runs every foreign call, sync or async, on
 * a stack of its own (1-2 MiB allocated by koffi, `leaq 128(%rsi), %rsp` in its
 * x64 trampoline). ClickHouse checks the frame address against the thread's
 * stack bounds (`pthread_getattr_np`) before every query, and refused the call
 * with `Frame address is greater than stack begin address (LOGICAL_ERROR)` in
 * 128 ms. So the call is made by libc, not koffi: `pthread_create` with a stack
 * we map (`pthread_attr_setstack`, so `pthread_getattr_np` reports it), whose
 * start routine is `setcontext` on a context prepared by `makecontext` to call
 * the function with (argc, argv) on that stack. When the function returns,
 * `makecontext`'s `uc_link` chain writes one byte to a pipe this process
 * watches, then parks the thread in `pause()` for good (the process exits next).
 *
 * Linux with glibc only: it relies on glibc's `ucontext_t` starting with
 * `uc_flags`, `uc_link`, `uc_stack` (x86-64 and aarch64 alike), and on glibc's
 * `makecontext` passing 64-bit arguments in registers.
 */
export interface NativeThread {
  /** Resolves when the function has returned. */
  readonly returned: Promise<void>
}

const MiB = 1024 * 1024
const UCONTEXT_BYTES = 8192 // glibc's ucontext_t: 968 bytes on x86-64, 4560 on aarch64
const RTLD_NOW = 2
const PROT_READ_WRITE = 0x1 | 0x2
// MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK: pages are committed as the stack grows.
const MAP_FLAGS = 0x2 | 0x20 | 0x4000 | 0x20000
const MAP_FAILED = 2n ** 64n - 1n

interface Libc {
  dlopen(path: string | null, flags: number): bigint
  dlsym(handle: bigint, name: string): bigint
  dlerror(): string | null
  mmap(addr: bigint, len: number, prot: number, flags: number, fd: number, off: bigint): bigint
  getcontext(ucp: bigint): number
  makecontext(ucp: bigint, fn: bigint, argc: number, ...typedArgs: unknown[]): void
  pthread_attr_init(attr: bigint): number
  pthread_attr_setstack(attr: bigint, addr: bigint, size: number): number
  pthread_create(thread: bigint, attr: bigint, start: bigint, arg: bigint): number
  pipe(fds: number[]): number
}

let libc: Libc | undefined

function loadLibc(): Libc {
  if (libc) return libc
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
    throw new Error(`running libchdb's server needs Linux (glibc) on x64 or arm64; this is ${process.platform}-${process.arch}`)
  }
  const lib = koffi.load('libc.so.6')
  // Pointers travel as uint64_t: they are plain integers to every call below.
  libc = {
    dlopen: lib.func('uint64_t dlopen(const char *path, int flags)'),
    dlsym: lib.func('uint64_t dlsym(uint64_t handle, const char *name)'),
    dlerror: lib.func('const char *dlerror()'),
    mmap: lib.func('uint64_t mmap(uint64_t addr, size_t len, int prot, int flags, int fd, int64_t off)'),
    getcontext: lib.func('int getcontext(uint64_t ucp)'),
    makecontext: lib.func('void makecontext(uint64_t ucp, uint64_t fn, int argc, ...)'),
    pthread_attr_init: lib.func('int pthread_attr_init(uint64_t attr)'),
    pthread_attr_setstack: lib.func('int pthread_attr_setstack(uint64_t attr, uint64_t addr, size_t size)'),
    pthread_create: lib.func('int pthread_create(uint64_t thread, uint64_t attr, uint64_t start, uint64_t arg)'),
    pipe: lib.func('int pipe(_Out_ int *fds)'),
  } as unknown as Libc
  return libc
}

const addressOf = (buf: Buffer): bigint => BigInt(koffi.address(buf))

function symbol(c: Libc, handle: bigint, name: string): bigint {
  const address = BigInt(c.dlsym(handle, name))
  if (address === 0n) throw new Error(`symbol ${name} not found: ${c.dlerror() ?? 'unknown reason'}`)
  return address
}

/** A zeroed context filled by getcontext, set to run on [stackLow, stackLow + stackSize) and then switch to `link`. */
function allocContext(c: Libc, link: bigint, stackLow: bigint, stackSize: number): Buffer {
  const uc = Buffer.alloc(UCONTEXT_BYTES)
  if (c.getcontext(addressOf(uc)) !== 0) throw new Error('getcontext failed')
  uc.writeBigUInt64LE(link, 8) // uc_link
  uc.writeBigUInt64LE(stackLow, 16) // uc_stack.ss_sp
  uc.writeInt32LE(0, 24) // uc_stack.ss_flags
  uc.writeBigUInt64LE(BigInt(stackSize), 32) // uc_stack.ss_size
  return uc
}

/**
 * Starts `symbol(argv.length, argv)` from the shared library at `libraryPath`.
 * `stackBytes` is the thread's whole stack; the function gets all of it but the
 * top 1 MiB (the thread's own start frames and glibc's thread descriptor, which
 * glibc puts at the top of a caller-provided stack) and the bottom 1 MiB (the
 * two small contexts that run after it).
 */
export function startNativeThread(libraryPath: string, symbolName: string, argv: readonly string[], stackBytes = 64 * MiB): NativeThread {
  const c = loadLibc()
  const handle = BigInt(c.dlopen(libraryPath, RTLD_NOW))
  if (handle === 0n) throw new Error(`cannot load ${libraryPath}: ${c.dlerror() ?? 'unknown reason'}`)
  const fn = symbol(c, handle, symbolName)
  const self = BigInt(c.dlopen(null, RTLD_NOW))
  const setcontext = symbol(c, self, 'setcontext')
  const write = symbol(c, self, 'write')
  const pause = symbol(c, self, 'pause')

  const strings = argv.map((a) => Buffer.from(`${a}\0`, 'utf8'))
  const argvBuf = Buffer.alloc(8 * (strings.length + 1))
  strings.forEach((s, i) => argvBuf.writeBigUInt64LE(addressOf(s), 8 * i))

  const stack = BigInt(c.mmap(0n, stackBytes, PROT_READ_WRITE, MAP_FLAGS, -1, 0n))
  if (stack === MAP_FAILED || stack === 0n) throw new Error(`cannot map a ${stackBytes}-byte stack`)
  const fds = [-1, -1]
  if (c.pipe(fds) !== 0) throw new Error('pipe failed')
  const [readFd, writeFd] = fds as [number, number]
  const byte = Buffer.from([1])

  // park: pause() forever (its uc_link is itself, so a signal that ends pause() starts it again).
  const park = allocContext(c, 0n, stack, MiB / 2)
  park.writeBigUInt64LE(addressOf(park), 8)
  c.makecontext(addressOf(park), pause, 0)
  // done: write(writeFd, byte, 1), then park.
  const done = allocContext(c, addressOf(park), stack + BigInt(MiB / 2), MiB / 2)
  c.makecontext(addressOf(done), write, 3, 'int', writeFd, 'uint64_t', addressOf(byte), 'uint64_t', 1n)
  // run: fn(argc, argv) on the rest of the stack below the top MiB, then done.
  const run = allocContext(c, addressOf(done), stack + BigInt(MiB), stackBytes - 2 * MiB)
  c.makecontext(addressOf(run), fn, 2, 'int', strings.length, 'uint64_t', addressOf(argvBuf))

  const attr = Buffer.alloc(256) // pthread_attr_t: 56 bytes on x86-64, 64 on aarch64
  const thread = Buffer.alloc(8)
  if (c.pthread_attr_init(addressOf(attr)) !== 0) throw new Error('pthread_attr_init failed')
  if (c.pthread_attr_setstack(addressOf(attr), stack, stackBytes) !== 0) throw new Error('pthread_attr_setstack failed')

  const pipe = new Socket({ fd: readFd, readable: true, writable: false })
  const returned = new Promise<void>((resolve) => {
    pipe.once('data', () => {
      pipe.destroy()
      resolve()
    })
  })
  // Everything the thread reads lives in these buffers: they stay referenced for the process's life.
  keepAlive.push({ strings, argvBuf, park, done, run, attr, thread, byte })
  const rc = c.pthread_create(addressOf(thread), addressOf(attr), setcontext, addressOf(run))
  if (rc !== 0) {
    pipe.destroy()
    throw new Error(`pthread_create failed (${rc})`)
  }
  return { returned }
}

const keepAlive: unknown[] = []
