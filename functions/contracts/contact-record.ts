export type ProfileStatus = 'fetched' | 'pending' | 'unavailable';

export interface ContactRecord {
  pageId: string;
  userId: string;
  firstName?: string;
  lastName?: string;
  profilePic?: string;
  profileStatus: ProfileStatus;
  updatedAt: string;
}
