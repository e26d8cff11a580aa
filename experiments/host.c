/* The machine a run measured on, for its manifest (experiments/prov.h): CPU model and crypto
 * features, frequency scaling, virtualization, emulation (and how this binary re-executes
 * itself through an emulator: sb_self_*), a Raspberry Pi's model and throttling, kernel and OS.
 * Leans on procfs and sysfs, and on systemd-detect-virt and vcgencmd when they exist. */
#include "experiments/prov.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <glob.h>
#include <sys/mman.h>
#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif
#include <sys/utsname.h>

#include "common/util.h"

/* ---- host: CPU ----------------------------------------------------------------------------- */

/* The value of the first "key : value" line of /proc/cpuinfo with this key, or NULL. */
static char *cpuinfo_field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0) {
            const char *p = line + klen;
            while (p < line + len && (*p == ' ' || *p == '\t'))
                p++;
            if (p < line + len && *p == ':') {
                p++;
                char *v = strndup(p, (size_t)(line + len - p));
                if (!v)
                    return NULL;
                char *t = sb_trim(v);
                memmove(v, t, strlen(t) + 1);
                return v;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
            (p[n] == '\0' || p[n] == ' ' || p[n] == '\t'))
            return 1;
    return 0;
}

/* The ARM cores a Raspberry Pi or a typical ARM server board carries; anything else is
 * recorded by its raw implementer and part numbers. */
static const char *arm_core_name(unsigned long implementer, unsigned long part)
{
    if (implementer != 0x41)
        return NULL;
    switch (part) {
    case 0xd03: return "ARM Cortex-A53";
    case 0xd08: return "ARM Cortex-A72";
    case 0xd0b: return "ARM Cortex-A76";
    default: return NULL;
    }
}

static void cpu_model(json_t *cpu, const char *info)
{
    char buf[160];
    char *impl = cpuinfo_field(info, "CPU implementer");
    char *part = cpuinfo_field(info, "CPU part");
    char *model = cpuinfo_field(info, "model name");
    if (impl && part) {
        /* ARM: the implementer/part pair is exact; 32-bit kernels' "model name" ("ARMv7
         * Processor rev 3 (v7l)") names only the architecture. */
        unsigned long i = strtoul(impl, NULL, 0), p = strtoul(part, NULL, 0);
        const char *name = arm_core_name(i, p);
        if (name)
            sb_prov_fmt(buf, sizeof buf, "%s", name);
        else
            sb_prov_fmt(buf, sizeof buf, "ARM CPU implementer %s part %s", impl, part);
        json_object_set_new(cpu, "model", json_string(buf));
        json_object_set_new(cpu, "model_source",
                            json_string("/proc/cpuinfo 'CPU implementer' and 'CPU part'"));
    } else if (model) {
        sb_prov_put_str(cpu, "model", model, NULL);
        json_object_set_new(cpu, "model_source", json_string("/proc/cpuinfo 'model name'"));
    } else {
        sb_prov_put(cpu, "model", NULL, "/proc/cpuinfo has neither 'model name' nor 'CPU implementer'");
        sb_prov_put(cpu, "model_source", NULL, "no model line to name");
    }
    sb_prov_put_str(cpu, "arm_implementer", impl, "no 'CPU implementer' line (not ARM)");
    sb_prov_put_str(cpu, "arm_part", part, "no 'CPU part' line (not ARM)");
    free(impl);
    free(part);
    free(model);

    char *hw = cpuinfo_field(info, "Hardware");
    char *board = cpuinfo_field(info, "Model");
    sb_prov_put_str(cpu, "hardware", hw, "no 'Hardware' line in /proc/cpuinfo");
    sb_prov_put_str(cpu, "board_model", board, "no 'Model' line in /proc/cpuinfo");
    free(hw);
    free(board);
}

/* Only the flags that decide which code path a cipher library takes, so that a reviewer sees at
 * a glance why AES-GCM is fast here and slow there. */
static void cpu_flags(json_t *cpu, const char *info)
{
    static const char *const x86[] = {"aes",  "pclmulqdq", "avx",    "avx2", "avx512f",
                                      "vaes", "vpclmulqdq", "sha_ni", "ssse3"};
    static const char *const arm[] = {"aes", "pmull", "sha2"};
    json_t *flags = json_object();
    char *line = cpuinfo_field(info, "flags");
    if (line) {
        for (size_t i = 0; i < sizeof x86 / sizeof *x86; i++)
            json_object_set_new(flags, x86[i], json_boolean(has_word(line, x86[i])));
        json_object_set_new(cpu, "flags_source",
                            json_string("/proc/cpuinfo 'flags' (first processor)"));
    } else if ((line = cpuinfo_field(info, "Features")) != NULL) {
        for (size_t i = 0; i < sizeof arm / sizeof *arm; i++)
            json_object_set_new(flags, arm[i], json_boolean(has_word(line, arm[i])));
        /* 32-bit kernels call Advanced SIMD "neon", 64-bit ones "asimd": the same unit. */
        json_object_set_new(flags, "neon_asimd",
                            json_boolean(has_word(line, "neon") || has_word(line, "asimd")));
        json_object_set_new(cpu, "flags_source",
                            json_string("/proc/cpuinfo 'Features' (first processor)"));
    } else {
        json_decref(flags);
        flags = NULL;
        sb_prov_put(cpu, "flags_source", NULL, "no flags line to name");
    }
    sb_prov_put(cpu, "crypto_flags", flags, "/proc/cpuinfo has neither a 'flags' nor a 'Features' line");
    free(line);
}

/* What the kernel tells this process it may use (getauxval), which is what OpenSSL's and
 * libsodium's ARM code paths test. Under qemu-user it is the CPU qemu emulates, and the only
 * source that says so: qemu passes the host's /proc/cpuinfo through. Bits from the kernel's
 * uapi asm/hwcap.h of each architecture. */
static void cpu_hwcap(json_t *cpu)
{
#if defined(__aarch64__) || defined(__arm__)
    unsigned long hw = getauxval(AT_HWCAP);
#if defined(__aarch64__)
    unsigned long c = hw; /* crypto bits in AT_HWCAP */
    int aes = 3, pmull = 4, sha2 = 6, simd = (int)(hw >> 1 & 1); /* HWCAP_ASIMD */
#else
    unsigned long c = getauxval(AT_HWCAP2); /* HWCAP2_AES, _PMULL, _SHA2 */
    int aes = 0, pmull = 1, sha2 = 3, simd = (int)(hw >> 12 & 1); /* HWCAP_NEON */
#endif
    json_t *f = json_object();
    json_object_set_new(f, "aes", json_boolean(c >> aes & 1));
    json_object_set_new(f, "pmull", json_boolean(c >> pmull & 1));
    json_object_set_new(f, "sha2", json_boolean(c >> sha2 & 1));
    json_object_set_new(f, "neon_asimd", json_boolean(simd));
    json_object_set_new(cpu, "hwcap", f);
    json_object_set_new(cpu, "hwcap_source",
                        json_string("getauxval(AT_HWCAP, AT_HWCAP2): what the kernel lets this "
                                    "process use"));
#else
    sb_prov_put(cpu, "hwcap", NULL, "not an ARM build: crypto_flags are the CPU's own");
    sb_prov_put(cpu, "hwcap_source", NULL, "not an ARM build");
#endif
}

static int cmp_cpu_paths(const void *a, const void *b)
{
    /* cpu10 after cpu9: compare the numbers, not the strings. */
    const char *pa = *(const char *const *)a, *pb = *(const char *const *)b;
    long na = strtol(strrchr(pa, 'u') + 1, NULL, 10), nb = strtol(strrchr(pb, 'u') + 1, NULL, 10);
    return (na > nb) - (na < nb);
}

static void put_khz(json_t *o, const char *key, const char *dir, const char *file)
{
    char path[PATH_MAX], why[PATH_MAX + 64];
    sb_prov_fmt(path, sizeof path, "%s/cpufreq/%s", dir, file);
    char *v = sb_prov_read_line(path, why, sizeof why);
    json_t *j = v ? sb_prov_int_or_null(v) : NULL;
    if (v && !j)
        sb_prov_fmt(why, sizeof why, "%s is not a number", path);
    sb_prov_put(o, key, j, why);
    free(v);
}

/* The governor decides whether a core races to its top frequency or creeps up to it: two runs
 * under "powersave" and "performance" measure different machines. */
static void cpufreq_collect(json_t *host)
{
    glob_t g;
    json_t *per_cpu = json_array(), *governors = json_array();
    int any = 0;
    if (glob("/sys/devices/system/cpu/cpu[0-9]*", GLOB_NOSORT, NULL, &g) == 0) {
        qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_cpu_paths);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *dir = g.gl_pathv[i];
            char path[PATH_MAX], why[PATH_MAX + 64];
            sb_prov_fmt(path, sizeof path, "%s/cpufreq", dir);
            struct stat st;
            if (stat(path, &st) != 0)
                continue;
            any = 1;
            json_t *c = json_object();
            json_object_set_new(c, "cpu", json_integer(strtol(strrchr(dir, 'u') + 1, NULL, 10)));
            sb_prov_fmt(path, sizeof path, "%s/cpufreq/scaling_governor", dir);
            char *gov = sb_prov_read_line(path, why, sizeof why);
            sb_prov_put_str(c, "governor", gov, why);
            if (gov) {
                size_t k;
                for (k = 0; k < json_array_size(governors); k++)
                    if (strcmp(json_string_value(json_array_get(governors, k)), gov) == 0)
                        break;
                if (k == json_array_size(governors))
                    json_array_append_new(governors, json_string(gov));
            }
            free(gov);
            put_khz(c, "cur_khz", dir, "scaling_cur_freq");
            put_khz(c, "max_khz", dir, "cpuinfo_max_freq");
            put_khz(c, "scaling_max_khz", dir, "scaling_max_freq");
            json_array_append_new(per_cpu, c);
        }
        globfree(&g);
    }
    if (!any) {
        json_decref(per_cpu);
        json_decref(governors);
        sb_prov_put(host, "cpufreq", NULL, "no cpufreq (VM?)");
        return;
    }
    json_t *cf = json_object();
    json_object_set_new(cf, "governors", governors);
    json_object_set_new(cf, "per_cpu", per_cpu);
    json_object_set_new(host, "cpufreq", cf);
}

/* ---- host: virtualization and emulation ------------------------------------------------------ */

/* systemd-detect-virt prints "none" and exits 1 when it finds nothing: that is an answer. */
static void detect_virt(json_t *v, const char *key, const char *flag, int *vm_positive,
                        json_t *evidence)
{
    char out[128], why[256] = "";
    const char *argv[] = {"systemd-detect-virt", flag, NULL};
    int code = 0;
    sb_tool_result r = sb_prov_tool_run(argv, NULL, SB_TOOL_TIMEOUT_S, out, sizeof out, &code, why, sizeof why);
    if (r == SB_TOOL_RAN && out[0] && (code == 0 || (code == 1 && strcmp(out, "none") == 0))) {
        json_object_set_new(v, key, json_string(out));
        if (vm_positive && strcmp(out, "none") != 0) {
            *vm_positive = 1;
            char e[160];
            sb_prov_fmt(e, sizeof e, "systemd-detect-virt --vm: %s", out);
            json_array_append_new(evidence, json_string(e));
        }
        if (vm_positive && strcmp(out, "none") == 0)
            *vm_positive = *vm_positive < 0 ? 0 : *vm_positive;
        return;
    }
    if (r == SB_TOOL_MISSING)
        sb_prov_fmt(why, sizeof why, "systemd-detect-virt not found");
    else if (r == SB_TOOL_RAN)
        sb_prov_fmt(why, sizeof why, "systemd-detect-virt %s failed (exit %d)", flag, code);
    sb_prov_put(v, key, NULL, why);
}

static void virtualization_collect(json_t *host, const char *cpuinfo)
{
    json_t *v = json_object(), *evidence = json_array();
    char why[PATH_MAX + 64];
    /* -1: no signal could be read; 0: every readable signal says bare metal; 1: a VM. */
    int vm = -1;

    char *flags = cpuinfo ? cpuinfo_field(cpuinfo, "flags") : NULL;
    if (flags) {
        int hv = has_word(flags, "hypervisor");
        json_object_set_new(v, "cpuinfo_hypervisor_flag", json_boolean(hv));
        if (hv) {
            vm = 1;
            json_array_append_new(evidence, json_string("cpuinfo 'hypervisor' flag"));
        } else if (vm < 0) {
            vm = 0;
        }
    } else {
        sb_prov_put(v, "cpuinfo_hypervisor_flag", NULL, "no 'flags' line in /proc/cpuinfo (not x86)");
    }
    free(flags);

    char *s = sb_prov_read_line("/sys/class/dmi/id/sys_vendor", why, sizeof why);
    sb_prov_put_str(v, "dmi_sys_vendor", s, why);
    free(s);
    s = sb_prov_read_line("/sys/class/dmi/id/product_name", why, sizeof why);
    sb_prov_put_str(v, "dmi_product_name", s, why);
    free(s);

    /* Firmware of ARM VMs (KVM, Xen) announces itself in the device tree. */
    struct stat st;
    if (stat("/proc/device-tree", &st) != 0) {
        sb_prov_put(v, "device_tree_hypervisor", NULL, "no /proc/device-tree (not a device-tree system)");
    } else {
        int hv = stat("/proc/device-tree/hypervisor", &st) == 0;
        json_object_set_new(v, "device_tree_hypervisor", json_boolean(hv));
        if (hv) {
            vm = 1;
            json_array_append_new(evidence, json_string("/proc/device-tree/hypervisor"));
        } else if (vm < 0) {
            vm = 0;
        }
    }

    detect_virt(v, "systemd_detect_virt_vm", "--vm", &vm, evidence);
    detect_virt(v, "systemd_detect_virt_container", "--container", NULL, NULL);

    sb_prov_put_bool(v, "vm", vm >= 0, vm == 1, "no signal could be read");
    json_object_set_new(v, "vm_evidence", evidence);
    json_object_set_new(host, "virtualization", v);
}

/* Do the build arch and the kernel's arch belong to one family that runs this binary natively?
 * A 32-bit ARM user land on a 64-bit kernel (Raspberry Pi OS) is native; so is i386 on x86_64.
 * -1 when the build arch is unknown. */
static int arch_native_on(const char *build, const char *kernel)
{
    if (!build)
        return -1;
    if (strcmp(build, "x86_64") == 0)
        return strcmp(kernel, "x86_64") == 0;
    if (strcmp(build, "i386") == 0)
        return strcmp(kernel, "x86_64") == 0 ||
               (kernel[0] == 'i' && strcmp(kernel + 2, "86") == 0);
    if (strcmp(build, "aarch64") == 0)
        return strcmp(kernel, "aarch64") == 0 || strcmp(kernel, "arm64") == 0;
    if (strncmp(build, "armv", 4) == 0)
        return strncmp(kernel, "arm", 3) == 0 || strcmp(kernel, "aarch64") == 0;
    return -1;
}

/* Are we run by qemu-user (or another user-mode translator) instead of the CPU?
 *
 * qemu-user hides itself: uname() reports the guest machine, and it answers open() and
 * readlink() of /proc/self/{exe,maps,auxv,cmdline,stat} with the guest's view. It recognises
 * those paths by their text only, so the same files reached relative to a directory descriptor
 * of /proc/self (readlinkat(fd, "exe")) come from the kernel: there, exe is the interpreter
 * (/usr/bin/qemu-aarch64, with binfmt_misc as well). A real exe that differs from the
 * apparent one is the sign. Second sign, for cross-architecture emulation:
 * /proc/sys/kernel/arch (Linux 6.1+) is not rewritten, so an arm64 build on an x86_64 kernel
 * is emulated. Third, and first in precedence: SEALBENCH_EMULATED=0/1 from a harness that knows. */
/* The kernel's /proc/self/cmdline, read through dir: NUL-separated, ending in a NUL. */
static char *real_cmdline(int dir, size_t *len)
{
    int fd = openat(dir, "cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            break;
        if (n == cap) {
            char *bigger = cap < (1u << 20) ? realloc(buf, 2 * cap + 1) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static int same_file(const char *a, const struct stat *b)
{
    struct stat st;
    return stat(a, &st) == 0 && st.st_dev == b->st_dev && st.st_ino == b->st_ino;
}

void sb_self_probe(sb_self *s)
{
    memset(s, 0, sizeof *s);
    s->interpreted = -1;
    ssize_t na = readlink("/proc/self/exe", s->exe, sizeof s->exe - 1);
    s->exe_errno = na < 0 ? errno : 0;
    s->exe[na > 0 ? na : 0] = '\0';
    int dir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ssize_t nr = dir >= 0 ? readlinkat(dir, "exe", s->exe_real, sizeof s->exe_real - 1) : -1;
    s->real_errno = nr < 0 ? errno : 0;
    s->exe_real[nr > 0 ? nr : 0] = '\0';
    if (na > 0 && nr > 0)
        s->interpreted = strcmp(s->exe, s->exe_real) != 0;
    if (s->interpreted == 1) {
        /* The emulator's options are what comes before the binary's path on its command line
         * ("qemu-aarch64 -L / build/aarch64/sealbench run ..."): the first argument that is
         * the same file as exe. Not found (qemu's -0, a binfmt_misc 'O' flag): the emulator
         * alone, which still runs the binary with the options of its environment (QEMU_*). */
        s->prefix[0] = s->exe_real;
        s->n_prefix = 1;
        size_t len = 0;
        struct stat st;
        s->cmdline = stat(s->exe, &st) == 0 ? real_cmdline(dir, &len) : NULL;
        const char *args[SB_SELF_MAX_PREFIX];
        size_t n = 0;
        for (size_t off = 0; s->cmdline && off < len && n < SB_SELF_MAX_PREFIX;) {
            args[n++] = s->cmdline + off;
            off += strlen(s->cmdline + off) + 1;
        }
        for (size_t i = 1; i < n; i++)
            if (same_file(args[i], &st)) {
                for (size_t k = 1; k < i; k++)
                    s->prefix[s->n_prefix++] = args[k];
                break;
            }
    }
    if (dir >= 0)
        close(dir);
}

void sb_self_free(sb_self *s)
{
    if (!s)
        return;
    free(s->cmdline);
    s->cmdline = NULL;
    s->n_prefix = 0;
}

char **sb_self_argv(const sb_self *s, char *const args[], const char **path)
{
    if (!s->exe[0])
        return NULL;
    size_t n = 0;
    while (args[n])
        n++;
    int through = s->interpreted == 1 && s->n_prefix > 0;
    size_t total = (through ? s->n_prefix + 1 : 0) + (n ? n : 1) + 1;
    char **v = calloc(total, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    if (through) {
        for (size_t i = 0; i < s->n_prefix; i++)
            v[k++] = (char *)s->prefix[i];
        v[k++] = (char *)s->exe; /* the emulator makes it the program's argv[0] */
    } else {
        v[k++] = n ? args[0] : (char *)s->exe;
    }
    for (size_t i = 1; i < n; i++)
        v[k++] = args[i];
    v[k] = NULL;
    *path = through ? s->exe_real : s->exe;
    return v;
}

static int emulation_collect(json_t *host, const char *uname_machine)
{
    json_t *e = json_object();
    char why[256];

    const char *env = getenv("SEALBENCH_EMULATED");
    sb_prov_put_str(e, "env_sealbench_emulated", env, "SEALBENCH_EMULATED not set");

    sb_self self;
    sb_self_probe(&self);
    int interp = self.interpreted;
    char why_apparent[128], why_real[128];
    sb_prov_fmt(why_apparent, sizeof why_apparent, "cannot read /proc/self/exe: %s",
        strerror(self.exe_errno));
    sb_prov_fmt(why_real, sizeof why_real, "cannot read exe through a descriptor of /proc/self: %s",
        strerror(self.real_errno));
    sb_prov_put_str(e, "exe", self.exe[0] ? self.exe : NULL, why_apparent);
    sb_prov_put_str(e, "exe_real", self.exe_real[0] ? self.exe_real : NULL, why_real);
    if (interp == 1) {
        const char *base = strrchr(self.exe_real, '/');
        json_object_set_new(e, "interpreter", json_string(base ? base + 1 : self.exe_real));
        /* How the runner starts its children: through this, then the binary. */
        json_t *cmd = json_array();
        for (size_t i = 0; i < self.n_prefix; i++)
            json_array_append_new(cmd, json_string(self.prefix[i]));
        json_object_set_new(e, "interpreter_command", cmd);
    } else {
        const char *w = interp == 0 ? "none: the kernel's exe is the binary itself"
                                    : "one of the two readings of /proc/self/exe failed";
        sb_prov_put(e, "interpreter", NULL, w);
        sb_prov_put(e, "interpreter_command", NULL, w);
    }
    sb_self_free(&self);

    char *karch = sb_prov_read_line("/proc/sys/kernel/arch", why, sizeof why);
    sb_prov_put_str(e, "kernel_arch", karch, why);
    sb_prov_put_str(e, "build_arch", BUILD_ARCH, "not one of x86_64, aarch64, arm, i386");
    sb_prov_put_str(e, "uname_machine", uname_machine, "uname failed");
    int native = karch ? arch_native_on(BUILD_ARCH, karch) : -1;

    int emulated = -1;
    const char *source = NULL;
    int env_valid = env && (strcmp(env, "1") == 0 || strcmp(env, "0") == 0);
    if (env_valid) {
        emulated = env[0] == '1';
        source = "environment: SEALBENCH_EMULATED";
    } else if (interp == 1) {
        emulated = 1;
        source = "/proc/self/exe read through a directory descriptor names an interpreter";
    } else if (native == 0) {
        emulated = 1;
        source = "build arch differs from the kernel's /proc/sys/kernel/arch";
    } else if (interp == 0 || native == 1) {
        emulated = 0;
        source = interp == 0 ? "/proc/self/exe read through a directory descriptor is the binary"
                               " itself"
                             : "build arch runs natively on /proc/sys/kernel/arch";
    }
    sb_prov_put_bool(e, "emulated", emulated >= 0, emulated == 1,
             "no sign could be read (/proc/self/exe and /proc/sys/kernel/arch unreadable)");
    sb_prov_put_str(e, "decided_by", source, "nothing to decide from");
    if (env && !env_valid)
        json_object_set_new(e, "env_note", json_string("SEALBENCH_EMULATED is neither 0 nor 1: "
                                                       "ignored"));
    if (emulated == 1)
        json_object_set_new(e, "note", json_string("timings are of a translator: host.cpu (model, "
                                                   "crypto_flags), cpufreq and board describe "
                                                   "the host, not the emulated CPU; "
                                                   "host.cpu.hwcap is the CPU the emulator "
                                                   "offers"));
    free(karch);
    json_object_set_new(host, "emulation", e);
    return emulated;
}

/* ---- host: Raspberry Pi --------------------------------------------------------------------- */

/* vcgencmd get_throttled: bits 0-3 are the state now, bits 16-19 whether it happened since boot
 * (Raspberry Pi documentation). A throttled Pi measures a slower CPU than its model says. */
static void throttled_collect(json_t *pi)
{
    char out[128], why[256] = "";
    const char *argv[] = {"vcgencmd", "get_throttled", NULL};
    int code = 0;
    sb_tool_result r = sb_prov_tool_run(argv, NULL, SB_TOOL_TIMEOUT_S, out, sizeof out, &code, why, sizeof why);
    const char *eq = strchr(out, '=');
    if (r != SB_TOOL_RAN || code != 0 || !eq) {
        if (r == SB_TOOL_MISSING)
            sb_prov_fmt(why, sizeof why, "vcgencmd not found (not a Raspberry Pi, or no libraspberrypi-bin)");
        else if (r == SB_TOOL_RAN)
            sb_prov_fmt(why, sizeof why, "vcgencmd get_throttled failed (exit %d): '%s'", code, out);
        sb_prov_put(pi, "throttled", NULL, why);
        return;
    }
    unsigned long bits = strtoul(eq + 1, NULL, 16);
    json_t *t = json_object();
    json_object_set_new(t, "raw", json_string(out));
    static const char *const names[] = {"under_voltage", "freq_capped", "throttled",
                                        "soft_temp_limit"};
    for (int i = 0; i < 4; i++) {
        char key[64];
        sb_prov_fmt(key, sizeof key, "%s_now", names[i]);
        json_object_set_new(t, key, json_boolean(bits >> i & 1));
        sb_prov_fmt(key, sizeof key, "%s_since_boot", names[i]);
        json_object_set_new(t, key, json_boolean(bits >> (16 + i) & 1));
    }
    json_object_set_new(pi, "throttled", t);
}

/* ---- host ------------------------------------------------------------------------------------ */

static char *os_pretty_name(char *why, size_t why_len)
{
    char *text = sb_prov_slurp("/etc/os-release", 1 << 16);
    if (!text)
        text = sb_prov_slurp("/usr/lib/os-release", 1 << 16);
    if (!text) {
        sb_prov_fmt(why, why_len, "cannot read /etc/os-release or /usr/lib/os-release");
        return NULL;
    }
    char *result = NULL;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        char *v = line + 12;
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = '\0';
            v++;
        }
        result = strdup(v);
        break;
    }
    free(text);
    if (!result)
        sb_prov_fmt(why, why_len, "os-release has no PRETTY_NAME");
    return result;
}

json_t *sb_prov_host(void)
{
    json_t *host = json_object();
    char why[PATH_MAX + 64];

    struct utsname u;
    int have_uname = uname(&u) == 0;
    sb_prov_put_str(host, "hostname", have_uname ? u.nodename : NULL, "uname failed");
    if (have_uname) {
        json_t *k = json_object();
        json_object_set_new(k, "sysname", json_string(u.sysname));
        json_object_set_new(k, "release", json_string(u.release));
        json_object_set_new(k, "version", json_string(u.version));
        json_object_set_new(k, "machine", json_string(u.machine));
        json_object_set_new(host, "kernel", k);
    } else {
        sb_prov_put(host, "kernel", NULL, "uname failed");
    }
    char *os = os_pretty_name(why, sizeof why);
    sb_prov_put_str(host, "os", os, why);
    free(os);

    json_t *cpu = json_object();
    char *info = sb_prov_slurp("/proc/cpuinfo", 1 << 24);
    if (info) {
        cpu_model(cpu, info);
        cpu_flags(cpu, info);
    } else {
        sb_prov_fmt(why, sizeof why, "cannot read /proc/cpuinfo: %s", strerror(errno));
        sb_prov_put(cpu, "model", NULL, why);
        sb_prov_put(cpu, "crypto_flags", NULL, why);
    }
    cpu_hwcap(cpu);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    sb_prov_put(cpu, "logical_online", online > 0 ? json_integer(online) : NULL,
        "sysconf(_SC_NPROCESSORS_ONLN) failed");
    char *list = sb_prov_read_line("/sys/devices/system/cpu/online", why, sizeof why);
    sb_prov_put_str(cpu, "online_list", list, why);
    free(list);
    json_object_set_new(host, "cpu", cpu);

    json_t *mem = NULL;
    char *meminfo = sb_prov_slurp("/proc/meminfo", 1 << 16);
    if (meminfo) {
        char *total = cpuinfo_field(meminfo, "MemTotal"); /* same "key: value" layout */
        mem = total ? sb_prov_int_or_null(total) : NULL;
        sb_prov_fmt(why, sizeof why, "no MemTotal in /proc/meminfo");
        free(total);
        free(meminfo);
    } else {
        sb_prov_fmt(why, sizeof why, "cannot read /proc/meminfo: %s", strerror(errno));
    }
    sb_prov_put(host, "mem_total_kib", mem, why);

    cpufreq_collect(host);

    /* Above 2, PAPI (perf_event) cannot count for an unprivileged user: the cycle columns of
     * such a run are empty, not zero. */
    char *para = sb_prov_read_line("/proc/sys/kernel/perf_event_paranoid", why, sizeof why);
    json_t *pj = para ? sb_prov_int_or_null(para) : NULL;
    if (para && !pj)
        sb_prov_fmt(why, sizeof why, "perf_event_paranoid is not a number: '%s'", para);
    sb_prov_put(host, "perf_event_paranoid", pj, why);
    free(para);

    char *cs = sb_prov_read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", why,
                         sizeof why);
    sb_prov_put_str(host, "clocksource", cs, why);
    free(cs);

    virtualization_collect(host, info);
    free(info);
    if (emulation_collect(host, have_uname ? u.machine : NULL) == 1) {
        /* Under qemu-user, /proc/cpuinfo is the host's (qemu 7.2 passes it through): no ARM
         * core, no Raspberry Pi, and no ARM crypto extension is claimed from it. */
        json_object_set_new(cpu, "emulated_note",
                            json_string("emulated: model and crypto_flags are from the host's "
                                        "/proc/cpuinfo (the machine running the emulator); "
                                        "hwcap is what the emulated CPU offers, no physical "
                                        "CPU's"));
        if (json_is_object(json_object_get(cpu, "hwcap")))
            json_object_set_new(cpu, "hwcap_source",
                                json_string("getauxval(AT_HWCAP, AT_HWCAP2) under an emulator: "
                                            "the CPU features it emulates"));
    }

    json_t *pi = json_object();
    char *model = sb_prov_read_line("/proc/device-tree/model", why, sizeof why);
    sb_prov_put_str(pi, "device_tree_model", model, why);
    free(model);
    throttled_collect(pi);
    json_object_set_new(host, "board", pi);
    return host;
}
