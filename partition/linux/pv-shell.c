/* pv-shell TTY PROGRAM [ARGS...]: runs PROGRAM in a new session whose
 * controlling terminal is TTY (stdin, stdout and stderr), and waits for it;
 * the interactive shell of `make linux` gets job control and Ctrl-C on hvc0.
 * (Debian's installer busybox has neither setsid nor cttyhack.) Exits with
 * PROGRAM's status. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pv-shell TTY PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) { perror("pv-shell: fork"); return 1; }
    if (pid == 0) {
        if (setsid() < 0) { perror("pv-shell: setsid"); _exit(1); }
        int fd = open(argv[1], O_RDWR);
        if (fd < 0) { perror(argv[1]); _exit(1); }
        if (ioctl(fd, TIOCSCTTY, 0) != 0) perror("pv-shell: TIOCSCTTY");
        for (int i = 0; i < 3; i++) dup2(fd, i);
        if (fd > 2) close(fd);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
