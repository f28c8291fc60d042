from django.contrib.admin.apps import AdminConfig


class SdropsAdminConfig(AdminConfig):
    default_site = "sdrops.admin_site.SdropsAdminSite"
