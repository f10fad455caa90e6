#!/usr/bin/python3
"""Seed the Latchkey dev domain: the seed users' OU and users, and the sync
worker's least-privilege service account with the rights DirSync needs.

Run by stack/samba.sh with Debian's /usr/bin/python3: Samba's Python bindings
(python3-samba) are installed for the system interpreter only, not for the
pyenv python3 that comes first on PATH.

It opens the DC's sam.ldb directly as the system session, which bypasses
ACLs. That is how it can change the security descriptor of
CN=Deleted Objects, which `samba-tool dsacl set` cannot reach.

Idempotent: every step checks first and only changes what is missing, so it
runs on every start without producing DirSync noise.
"""
import argparse
import base64
import sys

import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB
from samba.sd_utils import SDUtils

SEED_PASSWORD = "Latchkey-Seed-2026!"
SEED_USERS = [
    # sAMAccountName, givenName, sn
    ("alice", "Alice", "Archer"),
    ("bob", "Bob", "Baker"),
    ("carol", "Carol", "Carter"),
    ("dave", "Dave", "Dawson"),
    ("erin", "Erin", "Evans"),
]

# Extended right "Replicating Directory Changes" (DS-Replication-Get-Changes):
# what Entra Connect's AD DS connector account needs for DirSync.
DS_REPLICATION_GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"

# NORMAL_ACCOUNT | DONT_EXPIRE_PASSWD: enabled, and the dev domain outlives
# the default 42-day maximum password age on a long-kept machine.
UAC_ENABLED_NO_EXPIRY = 0x200 | 0x10000


def say(msg):
    print(f"[stack] samba seed: {msg}", file=sys.stderr)


def open_samdb(conf):
    lp = LoadParm()
    lp.load(conf)
    return SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)


def exists(samdb, dn, controls=None):
    try:
        samdb.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["dn"], controls=controls or [])
        return True
    except ldb.LdbError as e:
        if e.args[0] == ldb.ERR_NO_SUCH_OBJECT:
            return False
        raise


def ensure_ous(samdb, dn):
    """Create every missing OU between the domain root and dn (inclusive)."""
    domain = samdb.get_default_basedn()
    dn = ldb.Dn(samdb, str(dn))
    if not dn.is_child_of(domain):
        raise SystemExit(f"{dn} is not inside the domain {domain}")
    chain = []
    while dn != domain:
        chain.insert(0, dn)
        dn = dn.parent()
    for ou in chain:
        if exists(samdb, ou):
            continue
        if ou.get_rdn_name().upper() != "OU":
            raise SystemExit(f"{ou} does not exist and is not an OU this script may create")
        samdb.add({"dn": str(ou), "objectClass": "organizationalUnit"})
        say(f"created {ou}")


def unicode_pwd(password):
    # AD takes passwords as the UTF-16LE encoding of the password in double quotes.
    return f'"{password}"'.encode("utf-16-le")


def ensure_user(samdb, dn, sam, password, given=None, sn=None):
    """Create an enabled user with a non-expiring password, unless dn exists."""
    if exists(samdb, dn):
        return False
    realm = samdb.domain_dns_name()
    user = {
        "dn": dn,
        "objectClass": "user",
        "sAMAccountName": sam,
        "userPrincipalName": f"{sam}@{realm}",
        "userAccountControl": str(UAC_ENABLED_NO_EXPIRY),
        "unicodePwd": unicode_pwd(password),
    }
    if given:
        user.update(givenName=given, sn=sn, displayName=f"{given} {sn}", mail=f"{sam}@{realm}")
    samdb.add(user)
    say(f"created {dn}")
    return True


def set_password(samdb, dn, password):
    encoded = base64.b64encode(unicode_pwd(password)).decode()
    samdb.modify_ldif(f"dn: {dn}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {encoded}\n")
    say(f"reset the password of {dn}")


def grant(samdb, dn, ace, controls=()):
    """Add an explicit ACE to dn's DACL unless an equal one is there already."""
    utils = SDUtils(samdb)
    # The bindings' ace objects do not compare by value, so compare SDDL text instead,
    # normalised by a round trip (e.g. "LCRP" reads back as "RPLC").
    wanted = security.descriptor.from_sddl("D:" + ace, utils.domain_sid).as_sddl(utils.domain_sid)[2:]
    if wanted in utils.get_sd_as_sddl(dn, controls=list(controls)):
        return
    utils.dacl_prepend_aces(dn, ace, controls=list(controls) + [f"sd_flags:1:{security.SECINFO_DACL}"])
    say(f"granted {wanted} on {dn}")


def object_sid(samdb, dn):
    res = samdb.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["objectSid"])
    return str(ndr_unpack(security.dom_sid, res[0]["objectSid"][0]))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--conf", required=True, help="the DC's smb.conf")
    p.add_argument("--users-ou", required=True)
    p.add_argument("--bind-dn", required=True, help="DN of the sync worker's service account")
    p.add_argument("--bind-password", required=True)
    p.add_argument("--reset-bind-password", action="store_true",
                   help="set the service account's password even if the account exists")
    args = p.parse_args()

    samdb = open_samdb(args.conf)
    domain = str(samdb.get_default_basedn())

    ensure_ous(samdb, args.users_ou)
    for sam, given, sn in SEED_USERS:
        ensure_user(samdb, f"CN={given} {sn},{args.users_ou}", sam, SEED_PASSWORD, given, sn)

    bind_dn = ldb.Dn(samdb, args.bind_dn)
    ensure_ous(samdb, bind_dn.parent())
    sam = str(bind_dn.get_rdn_value())
    created = ensure_user(samdb, str(bind_dn), sam, args.bind_password)
    if args.reset_bind_password and not created:
        set_password(samdb, str(bind_dn), args.bind_password)

    sid = object_sid(samdb, str(bind_dn))
    # DirSync is refused without "Replicating Directory Changes" on the naming context root.
    grant(samdb, domain, f"(OA;;CR;{DS_REPLICATION_GET_CHANGES};;{sid})")
    # Samba 4.17 silently drops deletions (tombstones) from a non-admin's DirSync
    # results unless the account can list and read the Deleted Objects container.
    # That container is only visible with the show-deleted control.
    grant(samdb, f"CN=Deleted Objects,{domain}", f"(A;;LCRP;;;{sid})", controls=["show_deleted:1"])


if __name__ == "__main__":
    main()
