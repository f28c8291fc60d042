from django.contrib import admin


class SdropsAdminSite(admin.AdminSite):
    site_header = "sdrops"
    site_title = "sdrops"
    index_title = "Sales development operations"
