#!/usr/bin/env python3
"""Keeps scripts/programs.txt honest.

  check-programs.py                  every listed program is present, and every program the
                                     tree calls is either listed or part of a minimal Debian 12
  check-programs.py --presence-only  only the first half (run inside a fresh root after setup)

A call is found where a program can start: the first word of a shell command (scripts,
Makefile recipes, .ci/run, shell strings in C++), the first element of an argv built in
C++ or JavaScript, an absolute path to an executable in a string literal. A word counts
only if it resolves to an installed executable, so Python or SQL inside strings is ignored.
A program belongs to a minimal Debian 12 when its package has Priority: required (or is
apt, which debootstrap's minbase adds).
"""
import glob
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MINBASE_EXTRA = {"apt", "gpgv"}
SHELL_WORDS = set("""
if then else elif fi for while until do done case esac in function return local export set
unset trap shift read echo printf cd test true false wait kill exit source . declare eval
break continue command exec builtin type hash pushd popd umask ulimit shopt getopts let
readonly alias compgen complete time noglob
""".split())
PREFIXES = {"env", "exec", "sudo", "command", "nice", "nohup", "timeout", "runuser", "chroot"}


def load_list():
    programs = {}
    with open(os.path.join(ROOT, "scripts", "programs.txt")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, package, where = line.split()[:3]
            programs[name] = (package, where)
    return programs


def present(name, where):
    if where == "PATH":
        return shutil.which(name) is not None
    return any(os.access(p, os.X_OK) for p in glob.glob(where))


def tracked_files():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [p for p in out.stdout.splitlines() if os.path.isfile(os.path.join(ROOT, p))]


def shell_commands(text):
    """First words of the simple commands in shell text."""
    words = []
    heredoc_end = None
    for line in text.splitlines():
        if heredoc_end is not None:  # a here-document is data (often Python), not commands
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        marker = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if marker:
            heredoc_end = marker.group(1)
        line = re.sub(r"(^|\s)#.*$", "", line)
        # Code handed to an interpreter in quotes (python3 -c '…', node -e "…") is not shell.
        line = re.sub(r"\b(python3 -c|node -e|node -p)\s+('[^']*'|\"[^\"]*\")", r"\1 CODE", line)
        for segment in re.split(r"\|\||&&|[|;`({!]|\$\(|\bthen\b|\bdo\b|\belse\b", line):
            tokens = segment.split()
            while tokens and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]) or
                              tokens[0] in PREFIXES or tokens[0].startswith('"$') or
                              tokens[0].startswith("-")):
                if tokens[0] == "timeout" and len(tokens) > 1:
                    tokens = tokens[1:]  # its duration
                if tokens[0] in ("-u", "-g") and len(tokens) > 1:
                    tokens = tokens[1:]  # runuser's user or group
                tokens = tokens[1:]
            if tokens:
                words.append(tokens[0])
    return words


def source_commands(path, text):
    """Programs started from C++ or JavaScript source."""
    words = []
    argv_first = [
        r'SpawnChild\(\{\s*"([^"]+)"', r'Process\s*\w*\s*\(\{\s*"([^"]+)"',
        # an argv built as a list: std::vector<std::string> argv{"x", ...}, args = {"x", ...}
        r'\b(?:argv|args|command|cmd)\w*\s*(?:=\s*)?\{\s*"([^"]+)"',
        r'Run\w*\(\s*\{\s*"([^"]+)"',
        # Python: subprocess.run(["x", ...]) and friends
        r"subprocess\.\w+\(\s*\[\s*['\"]([^'\"]+)['\"]",
        r'posix_spawnp?\([^,]+,\s*"([^"]+)"', r'\bargs\s*=\s*\{\s*"([^"]+)"',
        r'exec[lv]p?\(\s*"([^"]+)"', r"spawn(?:Sync)?\(\s*['\"]([^'\"]+)['\"]",
        r"execFile(?:Sync)?\(\s*['\"]([^'\"]+)['\"]",
    ]
    for pattern in argv_first:
        words += re.findall(pattern, text)
    # Shell command lines in string literals (std::system, popen, runuser ... sh -c).
    for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text):
        if re.match(r"^[A-Za-z0-9_./+-]+ +-", literal) or literal.startswith("/usr/"):
            words += shell_commands(literal)
    return words


def is_program_word(word):
    return re.match(r"^[A-Za-z0-9_./+-]+$", word) and word not in SHELL_WORDS


def packages_of(paths):
    """Package of each executable path (dpkg -S), by path."""
    if not paths:
        return {}
    out = subprocess.run(["dpkg", "-S"] + sorted(paths), capture_output=True, text=True)
    owners = {}
    for line in out.stdout.splitlines():
        if ": " in line:
            pkgs, path = line.split(": ", 1)
            owners[path] = pkgs.split(",")[0].split(":")[0].strip()
    return owners


def priorities():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Priority}\n"],
                         capture_output=True, text=True, check=True)
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


def main():
    presence_only = "--presence-only" in sys.argv[1:]
    programs = load_list()
    problems = []
    for name, (package, where) in programs.items():
        if not present(name, where):
            problems.append(f"{name} (package {package}) is not at {where}")
    if not presence_only:
        calls = {}
        for path in tracked_files():
            full = os.path.join(ROOT, path)
            try:
                text = open(full, encoding="utf-8").read()
            except (UnicodeDecodeError, OSError):
                continue
            if path.endswith(".sh") or path in (".ci/run",):
                words = shell_commands(text)
            elif os.path.basename(path) == "Makefile":
                words = shell_commands("\n".join(
                    l[1:] for l in text.splitlines() if l.startswith("\t")))
            elif path.endswith((".cc", ".h", ".js", ".py")):
                words = source_commands(path, text)
            else:
                continue
            for word in words:
                if is_program_word(word):
                    calls.setdefault(os.path.basename(word), (word, path))
        resolved = {}
        for name, (word, path) in calls.items():
            if name in programs:
                continue
            exe = word if word.startswith("/") else shutil.which(word)
            if exe and os.path.isfile(exe) and os.access(exe, os.X_OK):
                resolved[os.path.realpath(exe)] = (name, path, exe)
        owners = packages_of(set(resolved) | {exe for _, _, exe in resolved.values()})
        prio = priorities()
        for real, (name, path, exe) in sorted(resolved.items()):
            package = owners.get(real) or owners.get(exe)
            if package is None:
                continue  # not from a package: the project's own binaries, pyenv shims
            if prio.get(package) == "required" or package in MINBASE_EXTRA:
                continue
            problems.append(f"{path} calls {name} (package {package}), which "
                            "scripts/programs.txt does not list")
    for p in problems:
        print(f"check-programs: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-programs: {len(programs)} programs listed and present"
          + ("" if presence_only else "; every call in the tree is listed or in minbase"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
