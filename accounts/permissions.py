"""Rights that come with the user account itself, whatever agency the user acts for."""


def is_system_admin(user) -> bool:
    """The installation's administrators: roster, municipalities, imports, the audit log —
    never client data by that right alone."""
    return bool(user.is_authenticated and user.is_active and user.is_system_admin)
