from .permissions import (
    can_manage_roster,
    can_read_directory,
    can_review_queues,
    can_work_with_clients,
    is_supporter,
    is_system_admin,
)


def current_agency(request) -> dict:
    viewer = getattr(request, "viewer", None)
    if viewer is None:
        return {}
    membership = viewer.membership
    return {
        "current_membership": membership,
        "nav_client_data": can_work_with_clients(viewer),
        "nav_queues": can_review_queues(viewer),
        "nav_roster": can_manage_roster(viewer),
        "nav_directory": can_read_directory(viewer),
        "nav_system_admin": is_system_admin(request.user),
        "nav_supporter": is_supporter(viewer),
    }
