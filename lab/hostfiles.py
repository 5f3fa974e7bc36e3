"""The files every lab host starts with: its sshd's configuration, its sudoers (the post's
CentOS: requiretty), its /etc/hosts."""

SSHD_CONFIG = """\
# sshd of one lab host (written by the lab).
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# VERBOSE logs every session started ("Starting session: command ..."): the benchmark counts them.
LogLevel VERBOSE
PrintMotd no
MaxSessions 64
MaxStartups 100:30:200
Subsystem sftp internal-sftp
"""

# As on the post's CentOS: sudo refuses to run without a terminal (Alluxio issue #3891).
SUDOERS = """\
Defaults requiretty
Defaults env_reset
Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
root ALL=(ALL:ALL) ALL
"""

ETC_HOSTS = """\
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""
